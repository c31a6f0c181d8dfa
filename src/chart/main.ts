/// <reference lib="dom" />
/**
 * The chart page: pickers from `/symbols` and `/timeframes`, stored bars from `/data/{sym}/{tf}`, gaps
 * from `/gap-analysis/…/gaps`, and the load panel. State lives here; drawing, loading, SSE and the
 * banner are in their own modules. `window.ktrdrChart` exposes what the page shows (the chart's own
 * series data counts, the load's progress) for the end-to-end tests and for debugging.
 */
import { ApiError, q, request, seg } from "./api.ts"
import { makeChart, type Bars } from "./chart.ts"
import { countGaps, gapMarkers, MAX_EXPECTED_MARKERS, type ApiGap, type GapCounts } from "./gaps.ts"
import { startGatewayBadge } from "./gateway.ts"
import { makeLoader, type LoadRequest, type OperationInfo } from "./load.ts"
import { chartTime, parseUtc, validZone, zoneOffset, type TimeMode } from "./time.ts"
import { byId, makeBanner, makeTokenDialog } from "./ui.ts"

interface SymbolInfo {
  readonly symbol: string
  readonly name: string
  readonly available_timeframes: ReadonlyArray<string>
  readonly trading_hours: { readonly timezone: string } | null
}
interface TimeframeInfo {
  readonly id: string
  readonly name: string
  readonly seconds: number
}
interface OhlcvData {
  readonly dates: ReadonlyArray<string>
  readonly ohlcv: ReadonlyArray<ReadonlyArray<number | null>>
  readonly metadata: { readonly symbol: string; readonly timeframe: string; readonly point_count: number }
}
interface GapResponse {
  readonly gaps: ReadonlyArray<ApiGap>
}

const form = byId<HTMLFormElement>("series-form")
const symbolInput = byId<HTMLInputElement>("symbol")
const symbolList = byId<HTMLDataListElement>("symbol-list")
const tfSelect = byId<HTMLSelectElement>("timeframe")
const startInput = byId<HTMLInputElement>("start")
const endInput = byId<HTMLInputElement>("end")
const exchangeRadio = byId<HTMLInputElement>("time-exchange")
const exchangeTz = byId<HTMLSpanElement>("exchange-tz")
const chartEl = byId<HTMLDivElement>("chart")
const chartStatus = byId<HTMLParagraphElement>("chart-status")
const legend = byId<HTMLParagraphElement>("legend")
const gapSummary = byId<HTMLElement>("gap-summary")
const gapList = byId<HTMLUListElement>("gap-list")
const modeSelect = byId<HTMLSelectElement>("mode")

const banner = makeBanner()
const view = makeChart(chartEl)

let symbols = new Map<string, SymbolInfo>()
let timeframes: ReadonlyArray<TimeframeInfo> = []
let shown: {
  bars: Bars
  symbol: string
  timeframe: string
  pointCount: number
  gaps: ReadonlyArray<ApiGap>
  gapCounts: GapCounts | null
} | null = null
let renders = 0
let showSeq = 0
let ready = false

const fail = (e: unknown) => {
  const err = e instanceof ApiError ? e : new ApiError(0, "CLIENT_ERROR", e instanceof Error ? e.message : String(e))
  banner.show(err)
  if (err.status === 401) tokenDialog.open(`${err.message}. Enter the server's token (KTRDR_API_TOKEN).`)
}

const tokenDialog = makeTokenDialog(() => {
  banner.clear()
  void init()
})

const timeMode =
  (): TimeMode => ((form.elements.namedItem("time-mode") as RadioNodeList).value === "exchange" ? "exchange" : "utc")
const zoneOf = (symbol: string) => {
  const tz = symbols.get(symbol)?.trading_hours?.timezone
  return validZone(tz) ? tz : null
}
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const fmtTime = (utcMs: number, tz: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone: tz, dateStyle: "medium", timeStyle: "short" }).format(utcMs)

/** Timeframe options, marking the ones stored for the current symbol. */
const fillTimeframes = () => {
  const info = symbols.get(symbolInput.value.trim().toUpperCase())
  const stored = new Set(info?.available_timeframes ?? [])
  const keep = tfSelect.value
  tfSelect.replaceChildren(
    ...timeframes.map((t) => new Option(`${t.name} (${t.id})${stored.has(t.id) ? " — stored" : ""}`, t.id))
  )
  // KTRDR's frontend defaulted to the symbol's first stored timeframe, else 1h.
  const wanted = keep !== "" && (stored.size === 0 || stored.has(keep)) ? keep : info?.available_timeframes[0] ?? "1h"
  if (timeframes.some((t) => t.id === wanted)) tfSelect.value = wanted
}

const onSymbolChange = () => {
  const tz = zoneOf(symbolInput.value.trim().toUpperCase())
  exchangeTz.textContent = tz === null ? "(unknown)" : `(${tz})`
  exchangeRadio.disabled = tz === null
  fillTimeframes()
}

const render = () => {
  if (shown === null) return
  const mode = timeMode()
  const tz = zoneOf(shown.symbol)
  const toChart = chartTime(mode, tz === null ? null : zoneOffset(tz))
  const seconds = timeframes.find((t) => t.id === shown?.timeframe)?.seconds ?? 3600
  view.render(shown.bars, toChart, gapMarkers(shown.gaps, shown.bars.times), seconds)
  renders++
  const n = shown.bars.times.length
  const zone = mode === "exchange" && tz !== null ? tz : "UTC"
  if (n === 0) {
    chartStatus.textContent =
      `No stored ${shown.symbol} ${shown.timeframe} bars in this range — use Load to fetch them.`
    chartEl.setAttribute("aria-label", `${shown.symbol} ${shown.timeframe}: no bars`)
  } else {
    const range = `${fmtTime(shown.bars.times[0]!, zone)} to ${fmtTime(shown.bars.times[n - 1]!, zone)}`
    chartStatus.textContent = `${n.toLocaleString("en-US")} bars, ${range} (${zone}).`
    chartEl.setAttribute(
      "aria-label",
      `${shown.symbol} ${shown.timeframe} candlestick chart with volume: ${n} bars, ${range} ${zone}`
    )
  }
}

const showGaps = (gaps: ReadonlyArray<ApiGap>, counts: GapCounts) => {
  const unmarked = counts.expected > MAX_EXPECTED_MARKERS ? ", not marked: too many to show" : ""
  const notLoaded = counts.notLoadedBars > 0 ? `; ${counts.notLoadedBars} bars of the period not loaded` : ""
  gapSummary.textContent = `Gaps: ${counts.unexpected} unexpected (${counts.missingBars} bars missing), ` +
    `${counts.expected} expected (nights, weekends, holidays${unmarked})${notLoaded}`
  const notable = gaps.filter((g) => g.classification === "unexpected" || g.classification === "market_closure")
  gapList.replaceChildren(...notable.map((g) => {
    const li = document.createElement("li")
    li.className = "gap-unexpected"
    li.textContent = `${g.classification}: ${g.start_time} → ${g.end_time}, ${g.bars_missing} bars missing${
      g.note ? ` — ${g.note}` : ""
    }`
    return li
  }))
}

const fetchGaps = async (symbol: string, tf: string, start: string, end: string) => {
  try {
    const r = await request<GapResponse>(
      `/api/v1/gap-analysis/data/${seg(symbol)}/${seg(tf)}/gaps?${
        q({ start_date: start, end_date: end, mode: "verbose", include_expected: "true" })
      }`
    )
    return r.gaps
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) throw e
    // The chart is still useful without gaps: say why they are missing instead of hiding the chart.
    gapSummary.textContent = `Gaps: unavailable (${e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)})`
    gapList.replaceChildren()
    return null
  }
}

/** Nothing is shown: no candles, no axes, no gaps of an earlier series; `why` says so in the status line. */
const clearShown = (why: string) => {
  shown = null
  view.clear()
  gapSummary.textContent = ""
  gapList.replaceChildren()
  chartStatus.textContent = why
  chartEl.setAttribute("aria-label", why)
}

/** Fetches and draws the series in the pickers; stale answers (a newer Show was pressed) are dropped. */
const show = async () => {
  const symbol = symbolInput.value.trim().toUpperCase()
  const tf = tfSelect.value
  const start = startInput.value
  const end = endInput.value
  if (symbol === "" || tf === "" || start === "" || end === "") return
  if (start >= end) return fail(new ApiError(0, "DATA-InvalidRange", "'From' must be before 'To'"))
  const seq = ++showSeq
  chartStatus.textContent = `Loading ${symbol} ${tf}…`
  history.replaceState(null, "", `?${q({ symbol, timeframe: tf, start, end })}`)
  try {
    const data = await request<OhlcvData>(
      `/api/v1/data/${seg(symbol)}/${seg(tf)}?${q({ start_date: start, end_date: end })}`
    )
    const gaps = data.dates.length === 0 ? [] : await fetchGaps(symbol, tf, start, end)
    if (seq !== showSeq) return
    shown = {
      bars: { times: data.dates.map(parseUtc), ohlcv: data.ohlcv },
      symbol,
      timeframe: tf,
      pointCount: data.metadata.point_count,
      gaps: gaps ?? [],
      gapCounts: gaps === null ? null : countGaps(gaps)
    }
    if (gaps !== null) showGaps(gaps, shown.gapCounts!)
    render()
  } catch (e) {
    if (seq !== showSeq) return
    // Not stored at all is not an error of the page: say what to do instead of raising a banner.
    if (e instanceof ApiError && e.code === "DATA-NotFound") {
      return clearShown(`No stored ${symbol} ${tf} bars — use Load to fetch them.`)
    }
    clearShown(`Could not show ${symbol} ${tf}.`)
    fail(e)
  }
}

/** After a failed load of the series in the form, an earlier series' candles must not stay under its name. */
const clearIfOtherSeries = (what: string) => {
  const symbol = symbolInput.value.trim().toUpperCase()
  const tf = tfSelect.value
  if (shown !== null && shown.symbol === symbol && shown.timeframe === tf) return
  clearShown(`No ${symbol} ${tf} bars to show: ${what}.`)
}

const loadTarget = (): LoadRequest | null => {
  const symbol = symbolInput.value.trim().toUpperCase()
  if (symbol === "" || tfSelect.value === "") {
    fail(new ApiError(0, "DATA-InvalidSymbol", "Choose a symbol and a timeframe first"))
    return null
  }
  const mode = modeSelect.value
  // tail: last stored bar → now; backfill: From → first stored bar; full: the whole From–To range.
  return {
    symbol,
    timeframe: tfSelect.value,
    mode,
    ...(mode === "tail" ? {} : { start_date: startInput.value }),
    ...(mode === "full" ? { end_date: endInput.value } : {})
  }
}

const loader = makeLoader({
  button: byId("load"),
  cancel: byId("cancel"),
  progress: byId("load-progress"),
  status: byId("load-status"),
  target: loadTarget,
  onEnd: (info: OperationInfo) => {
    if (info.status === "failed") return clearIfOtherSeries("the load failed")
    // New bars (or a cancelled load's checkpoint) are on disk: refresh the pickers and the chart.
    void loadCatalog().then(show, fail)
  },
  onError: (e) => {
    clearIfOtherSeries("the load failed")
    fail(e)
  }
})

const loadCatalog = async () => {
  const [tfs, syms] = await Promise.all([
    request<ReadonlyArray<TimeframeInfo>>("/api/v1/timeframes"),
    request<ReadonlyArray<SymbolInfo>>("/api/v1/symbols")
  ])
  timeframes = tfs
  symbols = new Map(syms.map((s) => [s.symbol, s]))
  symbolList.replaceChildren(...syms.map((s) => {
    const o = new Option(`${s.symbol} - ${s.name} (${s.available_timeframes.join(", ")})`, s.symbol)
    return o
  }))
  onSymbolChange()
}

const init = async () => {
  try {
    const params = new URLSearchParams(location.search)
    const today = Date.now()
    if (startInput.value === "") startInput.value = params.get("start") ?? isoDay(today - 90 * 86_400_000)
    if (endInput.value === "") endInput.value = params.get("end") ?? isoDay(today + 86_400_000)
    await loadCatalog()
    if (symbolInput.value === "") symbolInput.value = params.get("symbol") ?? [...symbols.keys()][0] ?? ""
    onSymbolChange()
    const tf = params.get("timeframe")
    if (tf !== null && timeframes.some((t) => t.id === tf)) tfSelect.value = tf
    ready = true
    if (symbolInput.value === "") {
      chartStatus.textContent = "No stored data yet: type a symbol (e.g. AAPL), pick a timeframe and press Load."
    }
    await show()
  } catch (e) {
    fail(e)
  }
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault()
  banner.clear()
  void show()
})
symbolInput.addEventListener("change", onSymbolChange)
for (const radio of Array.from(form.querySelectorAll<HTMLInputElement>("input[name=time-mode]"))) {
  radio.addEventListener("change", render)
}
view.onHover((i) => {
  const bars = shown?.bars
  const row = i === null || bars === undefined ? undefined : bars.ohlcv[i]
  if (i === null || shown === null || row === undefined) return void (legend.textContent = "")
  const tz = timeMode() === "exchange" ? zoneOf(shown.symbol) ?? "UTC" : "UTC"
  const [o, h, l, c, v] = row
  legend.textContent = `${fmtTime(shown.bars.times[i]!, tz)}  O ${o}  H ${h}  L ${l}  C ${c}  V ${
    (v ?? 0).toLocaleString("en-US")
  }`
})

const gatewayBadge = startGatewayBadge(byId<HTMLOutputElement>("gateway-badge"))

/** Read-only view for tests and debugging (the chart's series data, not the DOM). */
Object.defineProperty(window, "ktrdrChart", {
  value: Object.freeze({
    get ready() {
      return ready
    },
    get renders() {
      return renders
    },
    get candles() {
      return view.counts().candles
    },
    get volume() {
      return view.counts().volume
    },
    get markers() {
      return view.counts().markers
    },
    get pointCount() {
      return shown?.pointCount ?? null
    },
    get series() {
      return shown === null ? null : `${shown.symbol} ${shown.timeframe}`
    },
    get gaps() {
      return shown?.gapCounts ?? null
    },
    get timeMode() {
      return timeMode()
    },
    get firstBarChartTime() {
      return view.firstTime()
    },
    get markerTexts() {
      return view.markerTexts()
    },
    get load() {
      return { ...loader.state }
    },
    get bannerCode() {
      return banner.lastCode()
    },
    get gateway() {
      return gatewayBadge.last()
    }
  })
})

void init()
