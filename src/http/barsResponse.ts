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

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC): /data/range and other fields that always carried the zone. */
export const isoSecond = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`

/** `YYYY-MM-DDTHH:MM:SS`: KTRDR's `dates[]`, UTC wall clock without a zone (strftime `%Y-%m-%dT%H:%M:%S`). */
export const naiveSecond = (ms: number): string => new Date(ms).toISOString().slice(0, 19)

/** `YYYY-MM-DDTHH:MM:SS+00:00`: KTRDR's metadata `start_date`/`end_date` (Python `isoformat()` of a UTC time). */
export const isoPython = (ms: number): string => `${naiveSecond(ms)}+00:00`

const DAY_MS = 86_400_000
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`)
const CLOCK_MINUTES = Array.from({ length: 1440 }, (_, m) => `${pad2(Math.floor(m / 60))}:${pad2(m % 60)}:`)
const CLOCK_SECONDS = Array.from({ length: 60 }, (_, s) => pad2(s))
/** Years 0000–9999: outside them toISOString has another shape. */
const TABLE_FROM = Date.parse("0000-01-01T00:00:00Z"), TABLE_TO = Date.parse("+010000-01-01T00:00:00Z")

/**
 * naiveSecond for many ascending times: the `YYYY-MM-DDT` prefix is formatted once per day and the clock
 * comes from two tables — three times cheaper than toISOString per bar, which dominated encoding.
 */
const isoFormatter = () => {
  let day = Number.NaN
  let prefix = ""
  return (ms: number): string => {
    if (!(ms >= TABLE_FROM && ms < TABLE_TO)) return naiveSecond(ms)
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

/** A price as KTRDR serves it: a missing one (NaN in the file, pandas' empty cell) is JSON null. */
const price = (x: number): number | null => (finite(x) ? x : null)

/** Volume: IB's "absent" (-1, kept as null) and negatives are 0, as KTRDR serves them; an unreadable one is null. */
const volumeOf = (v: number | null): number | null => v === null ? 0 : Number.isNaN(v) ? null : v < 0 ? 0 : v

const complete = (b: Bar) => finite(b.open) && finite(b.high) && finite(b.low) && finite(b.close)

/** How many bars the filter keeps, in slices like the encoder (the filter can be costly over a million bars). */
const countKept = (bars: ReadonlyArray<Bar>, keep: ((time: number) => boolean) | undefined) =>
  Effect.gen(function*() {
    if (keep === undefined) return bars.length
    let n = 0
    for (let from = 0; from < bars.length; from += ROWS_PER_SLICE) {
      if (from > 0) yield* yieldToLoop
      const to = Math.min(bars.length, from + ROWS_PER_SLICE)
      for (let i = from; i < to; i++) if (keep(bars[i]!.time)) n++
    }
    return n
  })

/**
 * Encodes the envelope `{success, data: {dates, ohlcv, points, metadata}, error}` as KTRDR does: every
 * stored row inside the filter, a missing price as null (KTRDR's DEMO 1d 2023-01-10..20 has 11 rows, five of
 * them without a close), `limit` keeping the newest N. `metadata` carries KTRDR's keys — `start_date`/
 * `end_date` (`+00:00`), `point_count` before the limit, and `points`, `limited`, `original_points` when the
 * limit cut — plus ours; `start`/`end`/`points` are filled in every case (KTRDR had them only when empty,
 * so its CLI printed "N/A to N/A" for every real answer).
 */
export const encodeOhlcv = (
  bars: ReadonlyArray<Bar>,
  meta: OhlcvMeta,
  keep?: (time: number) => boolean,
  limit?: number
): Effect.Effect<Uint8Array> =>
  Effect.gen(function*() {
    const total = yield* countKept(bars, keep)
    let toSkip = limit === undefined ? 0 : Math.max(0, total - limit)
    let rangeFirst: number | null = null
    let rangeLast: number | null = null
    const dateParts: Array<Buffer> = []
    const ohlcvParts: Array<Buffer> = []
    const iso = isoFormatter()
    const comma = Buffer.from(",", "latin1")
    let count = 0
    let incomplete = 0
    let first: number | null = null
    let last: number | null = null
    for (let from = 0; from < bars.length; from += ROWS_PER_SLICE) {
      if (from > 0) yield* yieldToLoop
      // JSON.stringify of plain arrays is V8's fast path: several times quicker than concatenating numbers
      const dates: Array<string> = []
      const rows: Array<Array<number | null>> = []
      const to = Math.min(bars.length, from + ROWS_PER_SLICE)
      for (let i = from; i < to; i++) {
        const b = bars[i]!
        if (keep !== undefined && !keep(b.time)) continue
        rangeFirst ??= b.time
        rangeLast = b.time
        if (toSkip > 0) {
          toSkip--
          continue
        }
        if (!complete(b)) incomplete++
        dates.push(iso(b.time))
        rows.push([price(b.open), price(b.high), price(b.low), price(b.close), volumeOf(b.volume)])
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
    const cut = count < total
    const metadata = {
      symbol: meta.symbol,
      timeframe: meta.timeframe,
      start_date: rangeFirst === null ? null : isoPython(rangeFirst),
      end_date: rangeLast === null ? null : isoPython(rangeLast),
      point_count: total,
      start: first === null ? "" : naiveSecond(first),
      end: last === null ? "" : naiveSecond(last),
      points: count,
      ...(cut ? { limited: true, original_points: total } : {}),
      total_count: total,
      range_start_date: rangeFirst === null ? null : isoSecond(rangeFirst),
      trading_hours_only: meta.trading_hours_only,
      include_extended: meta.include_extended,
      filter_calendar: meta.filter_calendar,
      incomplete_bars: incomplete
    }
    return Buffer.concat([
      Buffer.from("{\"success\":true,\"data\":{\"dates\":[", "latin1"),
      ...dateParts,
      Buffer.from("],\"ohlcv\":[", "latin1"),
      ...ohlcvParts,
      Buffer.from(`],"points":null,"metadata":${JSON.stringify(metadata)}},"error":null}`, "utf8")
    ])
  })
