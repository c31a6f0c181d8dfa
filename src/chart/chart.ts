/// <reference lib="dom" />
/**
 * The lightweight-charts view: candlesticks in the main pane, volume in a second pane, gap markers on
 * the candles. It only draws what it is given (bars in UTC ms, a time mapping, gap specs) and reports
 * what it holds, so the page's tests can check the chart's own data rather than the DOM.
 */
import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type CandlestickData,
  type HistogramData,
  type SeriesMarker,
  type Time,
  type UTCTimestamp
} from "lightweight-charts"
import { tickLabel } from "./axis.ts"
import type { GapMarkerSpec } from "./gaps.ts"

const UP = "#1a7f37"
const DOWN = "#cf222e"

export interface Bars {
  /** Bar open times, UTC epoch ms, ascending. */
  readonly times: ReadonlyArray<number>
  /** `[open, high, low, close, volume]` per bar. */
  readonly ohlcv: ReadonlyArray<ReadonlyArray<number | null>>
}

export interface ChartView {
  readonly render: (
    bars: Bars,
    toChartTime: (utcMs: number) => number,
    gaps: ReadonlyArray<GapMarkerSpec>,
    barSeconds: number
  ) => void
  readonly counts: () => { readonly candles: number; readonly volume: number; readonly markers: number }
  /** The labels of the drawn markers, in bar order ("" for an unlabelled one). */
  readonly markerTexts: () => ReadonlyArray<string>
  /** The first candle's chart time (seconds; shifted in exchange mode), or null when empty. */
  readonly firstTime: () => number | null
  /**
   * Removes every candle, volume bar and marker, and hides the axes: an empty or failed series must not
   * show the previous one's candles or price and time axes under a new symbol's name.
   */
  readonly clear: () => void
  /** The bar under the crosshair (index into the rendered bars), or null when the pointer leaves. */
  readonly onHover: (f: (index: number | null) => void) => void
}

/** Bars at each end of the chart whose marker would not have room for a label. */
const EDGE_BARS = 3

export const makeChart = (el: HTMLElement): ChartView => {
  // Chart times (s) of the first bar of each day; the axis labels those with the day (tickLabel).
  const dayStarts = new Set<number>()
  const chart = createChart(el, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: "#1b1f24", fontSize: 12, attributionLogo: true },
    grid: { vertLines: { color: "#eef1f4" }, horzLines: { color: "#eef1f4" } },
    rightPriceScale: { borderColor: "#9aa4b2" },
    timeScale: {
      borderColor: "#9aa4b2",
      timeVisible: true,
      secondsVisible: false,
      tickMarkFormatter: tickLabel(dayStarts)
    }
  })
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    wickUpColor: UP,
    wickDownColor: DOWN,
    borderVisible: false
  })
  const volume = chart.addSeries(HistogramSeries, {
    priceFormat: { type: "volume" },
    priceLineVisible: false,
    lastValueVisible: false
  }, 1)
  const [pricePane, volumePane] = chart.panes()
  pricePane?.setStretchFactor(3)
  volumePane?.setStretchFactor(1)
  const markers = createSeriesMarkers(candles, [])
  // Chart time (s) → bar index, for the crosshair legend.
  let indexOf = new Map<number, number>()

  const render: ChartView["render"] = (bars, toChartTime, gaps, barSeconds) => {
    const c: CandlestickData<Time>[] = []
    const v: HistogramData<Time>[] = []
    const times: number[] = []
    indexOf = new Map()
    dayStarts.clear()
    for (let i = 0; i < bars.times.length; i++) {
      const row = bars.ohlcv[i]
      // A row with a missing price (null, KTRDR's NaN) cannot be drawn as a candle.
      if (row === undefined || row.length < 4 || row.slice(0, 4).some((x) => x === null)) continue
      const time = toChartTime(bars.times[i]!) as UTCTimestamp
      // A DST fall-back hour maps two bars to one wall-clock time; the chart needs strictly ascending times.
      if (times.length > 0 && time <= times[times.length - 1]!) continue
      const [open, high, low, close, vol] = row as [number, number, number, number, (number | null)?]
      if (times.length === 0 || Math.floor(time / 86_400) !== Math.floor(times[times.length - 1]! / 86_400)) {
        dayStarts.add(time)
      }
      times.push(time)
      indexOf.set(time, i)
      c.push({ time, open, high, low, close })
      v.push({ time, value: vol ?? 0, color: close >= open ? "rgba(26,127,55,0.45)" : "rgba(207,34,46,0.45)" })
    }
    chart.applyOptions({ timeScale: { timeVisible: barSeconds < 86_400, secondsVisible: barSeconds < 60 } })
    candles.setData(c)
    volume.setData(v)
    const m: SeriesMarker<Time>[] = []
    const positionOf = new Map(times.map((t, k) => [t, k]))
    for (const g of gaps) {
      const t = bars.times[g.barIndex]
      if (t === undefined) continue
      const time = toChartTime(t) as UTCTimestamp
      if (!indexOf.has(time)) continue
      // A label is drawn centred on its bar: on the first or last bars it would be cut off by the chart's edge.
      // There the arrow stands alone; the gap list under the chart names it in full.
      const k = positionOf.get(time) ?? 0
      const text = k < EDGE_BARS || k >= times.length - EDGE_BARS ? "" : g.text
      m.push(
        g.kind === "expected"
          ? { time, position: "aboveBar", shape: "circle", size: 0.4, color: "rgba(100,110,125,0.45)" }
          : {
            time,
            position: "aboveBar",
            shape: "arrowDown",
            size: 1.2,
            color: g.kind === "unexpected" ? "#b91c1c" : "#b45309",
            text
          }
      )
    }
    markers.setMarkers(m)
    el.classList.toggle("empty", c.length === 0)
    chart.timeScale().fitContent()
  }

  const clear = () => {
    candles.setData([])
    volume.setData([])
    markers.setMarkers([])
    indexOf = new Map()
    el.classList.add("empty")
  }

  return {
    render,
    clear,
    counts: () => ({ candles: candles.data().length, volume: volume.data().length, markers: markers.markers().length }),
    markerTexts: () => markers.markers().map((x) => x.text ?? ""),
    firstTime: () => (candles.data()[0]?.time as number | undefined) ?? null,
    onHover: (f) =>
      chart.subscribeCrosshairMove((p) => f(p.time === undefined ? null : indexOf.get(p.time as number) ?? null))
  }
}
