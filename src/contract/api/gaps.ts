/**
 * KTRDR's gap-analysis endpoints (ktrdr-api-cli.md §2.5) with the contract its service and CLI were
 * written for; KTRDR's own placeholder models made every route but /health fail. Analysis reads only
 * the store and the symbol cache: it works with the gateway down.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BadRequestWire, Envelope, InternalWire } from "../envelope.ts"
import { Auth } from "./auth.ts"
import { BoolParam, DateParam, SymbolParam, TimeframeId } from "./data.ts"

export const GapModeSchema = Schema.Literal("normal", "extended", "verbose").annotations({
  description:
    "normal: summary only, `gaps` is empty. extended: the gaps with missing bars (`unexpected`, and `not_loaded` " +
    "runs before the first or after the last stored bar). verbose: every gap; the calendar-explained " +
    "`expected_*` spans (weekends, holidays, nights) only with include_expected=true, else the same as " +
    "extended. `market_closure` is kept in the enum for KTRDR's clients but never produced: the calendar knows " +
    "when the exchange was closed, and missing bars while it was open are `unexpected`."
})

export const GapClassSchema = Schema.Literal(
  "unexpected",
  "not_loaded",
  "market_closure",
  "expected_holiday",
  "expected_trading_hours",
  "expected_weekend"
)

const Count = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const MissingBreakdown = Schema.Struct({
  unexpected: Count,
  not_loaded: Count,
  expected_weekend: Count,
  expected_trading_hours: Count,
  expected_holiday: Count,
  market_closure: Count
}).annotations({
  description: "Missing scheduled bars by class; the expected_* entries are 0 because closed time schedules no " +
    "bar; not_loaded bars lie outside the stored range and are not counted in total_missing or completeness"
})

export const ClosedSpans = Schema.Struct({
  expected_weekend: Count,
  expected_trading_hours: Count,
  expected_holiday: Count
})
  .annotations({
    description:
      "How many closed spans of each kind the calendar explains in the period (listed by verbose + include_expected)"
  })

export const GapSummary = Schema.Struct({
  expected_bars: Count.annotations({
    description:
      "Bars the exchange calendar schedules in the period (ended by now, not before IB's first bar when known)"
  }),
  actual_bars: Count.annotations({ description: "Stored bars that match a scheduled bar" }),
  total_missing: Count.annotations({ description: "expected_bars − actual_bars" }),
  data_completeness_pct: Schema.Number.annotations({
    description: "actual ÷ expected × 100, 2 decimals; 100 when nothing is expected"
  }),
  unscheduled_bars: Count.annotations({
    description:
      "Stored bars in the period the schedule does not have (e.g. extended-hours bars analysed for RTH); ignored above"
  }),
  missing_breakdown: MissingBreakdown,
  closed_spans: ClosedSpans
})

export const AnalysisPeriod = Schema.Struct({
  start: Schema.String,
  end: Schema.String.annotations({ description: "Exclusive" }),
  total_duration_hours: Schema.Number,
  trading_days_in_period: Count.annotations({ description: "Sessions of the calendar overlapping the period" })
})

export const TradingMetadata = Schema.Struct({
  calendar_id: Schema.String,
  timezone: Schema.String,
  asset_type: Schema.String,
  hours: Schema.Literal("regular", "extended"),
  source: Schema.Literal("symbol_cache", "symbol_rules"),
  head_timestamp: Schema.NullOr(Schema.String)
})

export const GapInfo = Schema.Struct({
  start_time: Schema.String,
  end_time: Schema.String.annotations({
    description: "Exclusive: the end of the last missing bar, or the next opening"
  }),
  classification: GapClassSchema,
  bars_missing: Count,
  duration_hours: Schema.Number,
  day_context: Schema.String,
  note: Schema.NullOr(Schema.String)
})

export const GapAnalysisResponse = Schema.Struct({
  symbol: Schema.String,
  timeframe: Schema.String,
  analysis_period: AnalysisPeriod,
  trading_metadata: Schema.NullOr(TradingMetadata),
  summary: GapSummary,
  gaps: Schema.Array(GapInfo).annotations({
    description: "Ascending by start_time; at most 10,000 (a recommendation says when more were found)"
  }),
  recommendations: Schema.Array(Schema.String)
})

export const GapSummaryResponse = Schema.Struct({
  symbol: Schema.String,
  timeframe: Schema.String,
  analysis_period: AnalysisPeriod,
  summary: GapSummary,
  recommendations: Schema.Array(Schema.String)
})

export const MAX_BATCH_SYMBOLS = 100

export const BatchGapAnalysisRequest = Schema.Struct({
  symbols: Schema.Array(SymbolParam).pipe(Schema.minItems(1), Schema.maxItems(MAX_BATCH_SYMBOLS)).annotations({
    description: `1 to ${MAX_BATCH_SYMBOLS} symbols, outer spaces trimmed; ` +
      "an invalid one is reported in `errors`, the others are still analysed"
  }),
  timeframe: TimeframeId,
  start_date: Schema.optional(Schema.NullOr(DateParam)),
  end_date: Schema.optional(Schema.NullOr(DateParam)),
  /** Default normal. Optional on both sides (not a decoding default), so the derived client may omit it too. */
  mode: Schema.optional(GapModeSchema),
  /** Default false. */
  include_expected: Schema.optional(Schema.Boolean)
})

export const OverallSummary = Schema.Struct({
  total_symbols: Count,
  total_expected_bars: Count,
  total_actual_bars: Count,
  total_missing_bars: Count,
  average_completeness_pct: Schema.Number,
  overall_completeness_pct: Schema.Number,
  aggregated_missing_breakdown: MissingBreakdown
})

export const BatchGapAnalysisResponse = Schema.Struct({
  request_summary: Schema.Struct({
    symbols_requested: Count,
    symbols_successful: Count,
    symbols_failed: Count,
    timeframe: Schema.String,
    analysis_period: Schema.String,
    mode: GapModeSchema,
    include_expected: Schema.Boolean
  }),
  results: Schema.Array(GapAnalysisResponse),
  errors: Schema.Array(Schema.Struct({ symbol: Schema.String, error: Schema.String })),
  // The full shape first: a union encodes with the first member that accepts the value, and `{}` accepts any object.
  overall_summary: Schema.Union(OverallSummary, Schema.Struct({})).annotations({
    description: "Totals over the successful symbols; {} when none succeeded"
  })
})

export const GapHealth = Schema.Struct({
  status: Schema.Literal("healthy"),
  service: Schema.Literal("gap_analysis"),
  data_directory: Schema.String,
  /** Usable entries of the symbol cache (KTRDR: symbols with trading-hours metadata). */
  gap_classifier_symbols: Count,
  supported_timeframes: Schema.Array(Schema.String),
  calendars: Schema.Array(Schema.String),
  version: Schema.String
})

const Period = {
  start_date: Schema.optional(DateParam),
  end_date: Schema.optional(DateParam)
}

const DATES = "Dates: YYYY-MM-DD (00:00 UTC) or ISO 8601; a time without zone is UTC; the end is exclusive. " +
  "Defaults: end = now, start = 90 days before the end (KTRDR's CLI). " +
  "start_date ≥ end_date → 400 DATA-InvalidDate. " +
  "A series with no stored bars is not an error: every expected bar is `unexpected` and the recommendations say " +
  "\"No data available: No data found\", \"Complete data collection needed\"."

export class GapsGroup extends HttpApiGroup.make("gaps")
  .add(
    HttpApiEndpoint.get("gaps", "/data/:symbol/:timeframe/gaps")
      .setPath(Schema.Struct({ symbol: SymbolParam, timeframe: TimeframeId }))
      .setUrlParams(Schema.Struct({
        ...Period,
        mode: Schema.optional(GapModeSchema),
        include_expected: Schema.optional(BoolParam)
      }))
      .addSuccess(Envelope(GapAnalysisResponse))
      .annotate(
        OpenApi.Description,
        "Stored bars against the instrument's trading calendar: " +
          `summary, gaps (per mode, default normal), recommendations. ${DATES}`
      )
  )
  .add(
    HttpApiEndpoint.get("summary", "/data/:symbol/:timeframe/summary")
      .setPath(Schema.Struct({ symbol: SymbolParam, timeframe: TimeframeId }))
      .setUrlParams(Schema.Struct(Period))
      .addSuccess(Envelope(GapSummaryResponse))
      .annotate(OpenApi.Description, `The summary and recommendations of /gaps, without the gap list. ${DATES}`)
  )
  .add(
    HttpApiEndpoint.post("batch", "/data/batch")
      .setPayload(BatchGapAnalysisRequest)
      .addSuccess(Envelope(BatchGapAnalysisResponse))
      .annotate(
        OpenApi.Description,
        "/gaps for several symbols over one period; " +
          `a symbol that fails is listed in \`errors\`, not a failed request. ${DATES}`
      )
  )
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Envelope(GapHealth)))
  .addError(BadRequestWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1/gap-analysis")
  .annotate(OpenApi.Description, "Gap analysis of stored data against the exchange calendars (no gateway needed)")
{}
