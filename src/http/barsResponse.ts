/**
 * The bytes of GET /data's answer, built here rather than by encoding the endpoint's Schema: a year of
 * minute bars is ~100k rows, and Schema's encode walks every number of them in one piece. Bars are
 * filtered and encoded in slices of 4,096 rows; between slices the fiber yields to the event loop
 * (setImmediate, after pending I/O), so a million-bar series never holds the loop for long. The output
 * is exactly what the `OhlcvData` envelope schema decodes (test/http/data.test.ts reads it through the
 * derived client and through Schema).
 */
import { Effect } from "effect"
import type { Bar } from "../domain/Bar.ts"
import { yieldToLoop } from "../layers/eventLoop.ts"

/** Rows per slice: a few milliseconds of formatting, then the event loop gets a turn. */
const ROWS_PER_SLICE = 4_096

export interface OhlcvMeta {
  readonly symbol: string
  readonly timeframe: string
  readonly trading_hours_only: boolean
  readonly include_extended: boolean
  /** The calendar the trading-hours filter used; null when no filter was asked or the asset class is unknown. */
  readonly filter_calendar: string | null
}

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form both of the chart's date parsers read as UTC. */
export const isoSecond = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`

const DAY_MS = 86_400_000
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const CLOCK_MINUTES = Array.from({ length: 1440 }, (_, m) => `${pad2(Math.floor(m / 60))}:${pad2(m % 60)}:`)
const CLOCK_SECONDS = Array.from({ length: 60 }, (_, s) => `${pad2(s)}Z`)
/** Years 0000–9999: outside them toISOString has another shape. */
const TABLE_FROM = Date.parse("0000-01-01T00:00:00Z"), TABLE_TO = Date.parse("+010000-01-01T00:00:00Z")

/**
 * isoSecond for many ascending times: the `YYYY-MM-DDT` prefix is formatted once per day and the clock
 * comes from two tables — three times cheaper than toISOString per bar, which dominated encoding.
 */
const isoFormatter = () => {
  let day = Number.NaN
  let prefix = ""
  return (ms: number): string => {
    if (!(ms >= TABLE_FROM && ms < TABLE_TO)) return isoSecond(ms)
    const d = Math.floor(ms / DAY_MS)
    if (d !== day) {
      day = d
      prefix = new Date(d * DAY_MS).toISOString().slice(0, 11)
    }
    const sec = Math.floor((ms - d * DAY_MS) / 1000)
    return prefix + CLOCK_MINUTES[Math.floor(sec / 60)]! + CLOCK_SECONDS[sec % 60]!
  }
}

/** The inside of a JSON array as bytes (`[a,b]` → `a,b`), without copying. */
const arrayItems = (items: ReadonlyArray<unknown>): Buffer => {
  const bytes = Buffer.from(JSON.stringify(items), "latin1")
  return bytes.subarray(1, bytes.length - 1)
}

const finite = Number.isFinite

/**
 * Encodes the envelope `{success, data: {dates, ohlcv, points, metadata}, error}`. Bars with a
 * missing price (NaN in the file, pandas' empty cell) are left out — JSON has no NaN and a chart
 * cannot draw them — and counted in `metadata.incomplete_bars_skipped`; a missing volume is 0.
 */
/** Bars the answer can hold: inside the trading-hours filter (if any) with every price present. */
const servable = (b: Bar, keep: ((time: number) => boolean) | undefined) =>
  (keep === undefined || keep(b.time)) && finite(b.open) && finite(b.high) && finite(b.low) && finite(b.close)

/** How many bars qualify, in slices like the encoder (the filter can be costly over a million bars). */
const countServable = (bars: ReadonlyArray<Bar>, keep: ((time: number) => boolean) | undefined) =>
  Effect.gen(function*() {
    let n = 0
    for (let from = 0; from < bars.length; from += ROWS_PER_SLICE) {
      if (from > 0) yield* yieldToLoop
      const to = Math.min(bars.length, from + ROWS_PER_SLICE)
      for (let i = from; i < to; i++) if (servable(bars[i]!, keep)) n++
    }
    return n
  })

export const encodeOhlcv = (
  bars: ReadonlyArray<Bar>,
  meta: OhlcvMeta,
  keep?: (time: number) => boolean,
  tail?: number
): Effect.Effect<Uint8Array> =>
  Effect.gen(function*() {
    // `tail`: only the last N qualifying bars go out; `total_count` says how many qualified.
    const total = tail === undefined ? undefined : yield* countServable(bars, keep)
    let toSkip = total === undefined || tail === undefined ? 0 : Math.max(0, total - tail)
    let rangeFirst: number | null = null
    const dateParts: Array<Buffer> = []
    const ohlcvParts: Array<Buffer> = []
    const iso = isoFormatter()
    const comma = Buffer.from(",", "latin1")
    let count = 0
    let skipped = 0
    let first: number | null = null
    let last: number | null = null
    for (let from = 0; from < bars.length; from += ROWS_PER_SLICE) {
      if (from > 0) yield* yieldToLoop
      // JSON.stringify of plain arrays is V8's fast path: several times quicker than concatenating numbers
      const dates: Array<string> = []
      const rows: Array<Array<number>> = []
      const to = Math.min(bars.length, from + ROWS_PER_SLICE)
      for (let i = from; i < to; i++) {
        const b = bars[i]!
        if (keep !== undefined && !keep(b.time)) continue
        if (!(finite(b.open) && finite(b.high) && finite(b.low) && finite(b.close))) {
          skipped++
          continue
        }
        rangeFirst ??= b.time
        if (toSkip > 0) {
          toSkip--
          continue
        }
        dates.push(iso(b.time))
        rows.push([b.open, b.high, b.low, b.close, b.volume !== null && finite(b.volume) ? b.volume : 0])
        first ??= b.time
        last = b.time
      }
      if (dates.length === 0) continue
      if (count > 0) {
        dateParts.push(comma)
        ohlcvParts.push(comma)
      }
      dateParts.push(arrayItems(dates))
      ohlcvParts.push(arrayItems(rows))
      count += dates.length
    }
    const metadata = {
      symbol: meta.symbol,
      timeframe: meta.timeframe,
      start_date: first === null ? null : isoSecond(first),
      end_date: last === null ? null : isoSecond(last),
      point_count: count,
      total_count: total ?? count,
      range_start_date: rangeFirst === null ? null : isoSecond(rangeFirst),
      trading_hours_only: meta.trading_hours_only,
      include_extended: meta.include_extended,
      filter_calendar: meta.filter_calendar,
      incomplete_bars_skipped: skipped
    }
    return Buffer.concat([
      Buffer.from("{\"success\":true,\"data\":{\"dates\":[", "latin1"),
      ...dateParts,
      Buffer.from("],\"ohlcv\":[", "latin1"),
      ...ohlcvParts,
      Buffer.from(`],"points":null,"metadata":${JSON.stringify(metadata)}},"error":null}`, "utf8")
    ])
  })
