/**
 * The bytes of GET /data's answer, built here rather than by encoding the endpoint's Schema: a year of minute bars
 * is ~100k rows, and Schema's encode walks every number of them in one piece. The series' columns are written
 * straight into bytes (domain/ohlcvJson.ts) in pieces of 8,192 rows, with an event-loop turn (setImmediate, after
 * pending I/O) between pieces, so a million-bar answer streams out while it is being written and never holds the loop
 * for long. The output is exactly what the `OhlcvData` envelope schema decodes (test/http/data.test.ts reads it
 * through the derived client and through Schema).
 */
import { Effect, Option, Stream } from "effect"
import type { BarSeries } from "../domain/barSeries.ts"
import { incompleteRows, ohlcvPieces, ROWS_PER_PIECE, rowAt, type RowSelection } from "../domain/ohlcvJson.ts"
import { yieldToLoop } from "../layers/eventLoop.ts"

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

/** What an answer will hold: the series, the rows selected and the metadata that describes them. */
export interface OhlcvPlan {
  readonly series: BarSeries
  readonly selection: RowSelection
  readonly metadataJson: string
}

/** Rows the filter keeps, in slices with an event-loop turn between them (the filter can be costly). */
const keptRows = (series: BarSeries, keep: (time: number) => boolean) =>
  Effect.gen(function*() {
    const index = new Uint32Array(series.length)
    let n = 0
    for (let from = 0; from < series.length; from += ROWS_PER_PIECE) {
      if (from > 0) yield* yieldToLoop
      const to = Math.min(series.length, from + ROWS_PER_PIECE)
      for (let i = from; i < to; i++) if (keep(series.time[i]!)) index[n++] = i
    }
    return index.subarray(0, n)
  })

/**
 * Selects the rows of an ascending, unique series as KTRDR does: every stored row inside the filter, `limit` keeping
 * the newest N. `metadata` carries KTRDR's keys — `start_date`/`end_date` (`+00:00`), `point_count` before the
 * limit, and `points`, `limited`, `original_points` when the limit cut — plus ours; `start`/`end`/`points` are
 * filled in every case (KTRDR had them only when empty, so its CLI printed "N/A to N/A" for every real answer).
 */
export const planOhlcv = (
  series: BarSeries,
  meta: OhlcvMeta,
  keep?: (time: number) => boolean,
  limit?: number
): Effect.Effect<OhlcvPlan> =>
  Effect.gen(function*() {
    const index = keep === undefined ? undefined : yield* keptRows(series, keep)
    const total = index === undefined ? series.length : index.length
    const all: RowSelection = index === undefined ? { from: 0, to: total } : { from: 0, to: total, index }
    const selection: RowSelection = { ...all, from: limit === undefined ? 0 : Math.max(0, total - limit) }
    const timeAt = (s: RowSelection, k: number) => series.time[rowAt(s, k)]!
    const rangeFirst = total > 0 ? timeAt(all, 0) : null
    const rangeLast = total > 0 ? timeAt(all, total - 1) : null
    const count = selection.to - selection.from
    const first = count > 0 ? timeAt(selection, selection.from) : null
    const last = count > 0 ? timeAt(selection, selection.to - 1) : null
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
      incomplete_bars: incompleteRows(series, selection)
    }
    return { series, selection, metadataJson: JSON.stringify(metadata) }
  })

/** The answer's bytes as a stream of pieces, written as they are pulled, an event-loop turn between pieces. */
export const ohlcvStream = (plan: OhlcvPlan): Stream.Stream<Uint8Array> =>
  Stream.unfoldEffect(
    { pieces: ohlcvPieces(plan.series, plan.selection, plan.metadataJson), first: true },
    (state) =>
      Effect.zipRight(
        state.first ? Effect.void : yieldToLoop,
        Effect.sync(() => {
          const r = state.pieces.next()
          return r.done ? Option.none() : Option.some([r.value, { pieces: state.pieces, first: false }] as const)
        })
      )
  )

/** The whole answer in one buffer (tests; the server streams). */
export const encodeOhlcv = (
  series: BarSeries,
  meta: OhlcvMeta,
  keep?: (time: number) => boolean,
  limit?: number
): Effect.Effect<Uint8Array> =>
  Effect.flatMap(
    planOhlcv(series, meta, keep, limit),
    (plan) => Effect.map(Stream.runCollect(ohlcvStream(plan)), (chunks) => Buffer.concat(Array.from(chunks)))
  )
