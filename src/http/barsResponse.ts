/**
 * The bytes of GET /data's answer, written by hand rather than through the endpoint's Schema: a
 * year of minute bars is ~100k rows, and encoding them as nested arrays through Schema and
 * JSON.stringify costs several times more and in one piece. Bars are filtered and encoded in slices;
 * between slices the fiber yields to the event loop (setImmediate, after pending I/O), so a large
 * series never holds the loop for more than a few milliseconds. The output is exactly what the
 * `OhlcvData` envelope schema decodes (see test/http/data.test.ts, which reads it through the client).
 */
import { Effect } from "effect"
import type { Bar } from "../domain/Bar.ts"

/** Rows per slice: ~2–3 ms of formatting on a slow core. */
const ROWS_PER_SLICE = 8_192

export interface OhlcvMeta {
  readonly symbol: string
  readonly timeframe: string
  readonly trading_hours_only: boolean
  readonly include_extended: boolean
  /** The calendar the trading-hours filter used; null when no filter was asked or the asset class is unknown. */
  readonly filter_calendar: string | null
}

/**
 * A real macrotask turn: Effect.yieldNow only lets other fibers run (the scheduler batches through
 * microtasks), while sockets and timers wait for the event loop itself.
 */
export const yieldToLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const h = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(h))
})

/** `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form both of the chart's date parsers read as UTC. */
export const isoSecond = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`

const finite = Number.isFinite

/**
 * Encodes the envelope `{success, data: {dates, ohlcv, points, metadata}, error}`. Bars with a
 * missing price (NaN in the file, pandas' empty cell) are left out — JSON has no NaN and a chart
 * cannot draw them — and counted in `metadata.incomplete_bars_skipped`; a missing volume is 0.
 */
export const encodeOhlcv = (bars: ReadonlyArray<Bar>, meta: OhlcvMeta, keep?: (time: number) => boolean): Effect.Effect<Uint8Array> =>
  Effect.gen(function* () {
    const dateParts: Array<Buffer> = []
    const ohlcvParts: Array<Buffer> = []
    let count = 0
    let skipped = 0
    let first: number | null = null
    let last: number | null = null
    for (let from = 0; from < bars.length; from += ROWS_PER_SLICE) {
      if (from > 0) yield* yieldToLoop
      let dates = ""
      let rows = ""
      const to = Math.min(bars.length, from + ROWS_PER_SLICE)
      for (let i = from; i < to; i++) {
        const b = bars[i]!
        if (keep !== undefined && !keep(b.time)) continue
        if (!(finite(b.open) && finite(b.high) && finite(b.low) && finite(b.close))) {
          skipped++
          continue
        }
        const v = b.volume !== null && finite(b.volume) ? b.volume : 0
        const sep = count === 0 ? "" : ","
        dates += `${sep}"${isoSecond(b.time)}"`
        rows += `${sep}[${b.open},${b.high},${b.low},${b.close},${v}]`
        first ??= b.time
        last = b.time
        count++
      }
      if (dates !== "") {
        dateParts.push(Buffer.from(dates, "latin1"))
        ohlcvParts.push(Buffer.from(rows, "latin1"))
      }
    }
    const metadata = {
      symbol: meta.symbol,
      timeframe: meta.timeframe,
      start_date: first === null ? null : isoSecond(first),
      end_date: last === null ? null : isoSecond(last),
      point_count: count,
      trading_hours_only: meta.trading_hours_only,
      include_extended: meta.include_extended,
      filter_calendar: meta.filter_calendar,
      incomplete_bars_skipped: skipped
    }
    return Buffer.concat([
      Buffer.from('{"success":true,"data":{"dates":[', "latin1"),
      ...dateParts,
      Buffer.from('],"ohlcv":[', "latin1"),
      ...ohlcvParts,
      Buffer.from(`],"points":null,"metadata":${JSON.stringify(metadata)}},"error":null}`, "utf8")
    ])
  })
