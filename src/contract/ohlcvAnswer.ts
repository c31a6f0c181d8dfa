/**
 * The answer of `GET /api/v1/data/{symbol}/{timeframe}` (DataGroup's `bars`), with nothing but `effect/Schema`:
 * the endpoint's success schema is `BarsAnswer` itself, and the `ktrdr data show` lane (src/app/cliShow.ts)
 * validates the same bytes with it without loading @effect/platform or the rest of the contract.
 */
import { Schema } from "effect"
import { Envelope } from "./envelopeShape.ts"

/** KTRDR's metadata keys (filled in every case; KTRDR had two shapes) and ours after them. */
export const OhlcvMetadata = Schema.Struct({
  /** The series key, as /symbols lists it (`EURUSD`). */
  symbol: Schema.String,
  timeframe: Schema.String,
  start_date: Schema.NullOr(Schema.String).annotations({
    description: "First bar of the range (before `limit`), `YYYY-MM-DDTHH:MM:SS+00:00`; null when there is none"
  }),
  end_date: Schema.NullOr(Schema.String).annotations({
    description: "Last bar of the range, `YYYY-MM-DDTHH:MM:SS+00:00`; null when there is none"
  }),
  point_count: Schema.Number.annotations({ description: "Bars in the range, before `limit` (KTRDR's meaning)" }),
  start: Schema.String.annotations({ description: "First returned date (as in `dates`); \"\" when none" }),
  end: Schema.String.annotations({ description: "Last returned date (as in `dates`); \"\" when none" }),
  points: Schema.Number.annotations({ description: "Bars returned (= dates.length)" }),
  limited: Schema.optional(Schema.Literal(true)).annotations({ description: "Present when `limit` cut the range" }),
  original_points: Schema.optional(Schema.Number).annotations({ description: "Present with `limited`: point_count" }),
  total_count: Schema.Number.annotations({ description: "Same as point_count (kept for older ktrdr-ts clients)" }),
  range_start_date: Schema.NullOr(Schema.String).annotations({
    description: "First bar of the range (before `limit`), `YYYY-MM-DDTHH:MM:SSZ`; null when there is none"
  }),
  trading_hours_only: Schema.Boolean,
  include_extended: Schema.Boolean,
  filter_calendar: Schema.NullOr(Schema.String).annotations({
    description:
      "Trading calendar the trading-hours filter applied; null when no filter was asked or the symbol's asset class " +
      "is unknown (bars then unfiltered)"
  }),
  incomplete_bars: Schema.Number.annotations({
    description: "Returned rows with a missing price (served as null, as KTRDR does; JSON has no NaN)"
  })
})

export const OhlcvData = Schema.Struct({
  dates: Schema.Array(Schema.String).annotations({
    description: "Bar times, `YYYY-MM-DDTHH:MM:SS`: UTC wall clock without a zone, as KTRDR serves them; ascending"
  }),
  ohlcv: Schema.Array(Schema.Array(Schema.NullOr(Schema.Number))).annotations({
    description: "One `[open, high, low, close, volume]` per date; a missing price is null (KTRDR's NaN); " +
      "an absent volume (IB's -1: quotes, indices) is 0"
  }),
  points: Schema.Null,
  metadata: OhlcvMetadata
})
export type OhlcvData = typeof OhlcvData.Type

/** `{success: true, data: OhlcvData, error: null}`: the bars endpoint's 200. */
export const BarsAnswer = Envelope(OhlcvData)
