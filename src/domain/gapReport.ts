/**
 * KTRDR's gap-analysis answers (ktrdr-api-cli.md §2.5, the "intended contract" its broken endpoints
 * never delivered) built from our calendar-aware `analyzeGaps`. Pure: the HTTP handler reads the store
 * and the symbol cache, this module shapes the result.
 *
 * Where KTRDR guessed, the calendar decides: `expected_bars` are the bars the exchange schedules (not
 * period minutes ÷ timeframe minutes), `actual_bars` the stored bars that match one, and so
 * `total_missing = expected_bars − actual_bars − not_loaded` and completeness is a real ratio over the
 * stored range: bars before the first or after the last stored bar are `not_loaded` (counted apart, never
 * against completeness). The missing-bar breakdown only has `unexpected` and `not_loaded` entries above
 * zero: time the calendar explains
 * (weekends, holidays, nights) holds no scheduled bar, so nothing is missing there — those spans are
 * listed as gaps (verbose mode) and counted in `closed_spans` instead.
 */
import { DateTime } from "luxon"
import type { Gap, GapAnalysis, GapClass } from "./GapAnalysis.ts"
import type { Timeframe } from "./Timeframe.ts"

export type GapMode = "normal" | "extended" | "verbose"

export const GAP_MODES: ReadonlyArray<GapMode> = ["normal", "extended", "verbose"]

export interface MissingBreakdown {
  readonly unexpected: number
  readonly not_loaded: number
  readonly expected_weekend: number
  readonly expected_trading_hours: number
  readonly expected_holiday: number
  readonly market_closure: number
}

/** Closed spans the calendar explains, by kind: KTRDR counted these as "gaps" too. */
export interface ClosedSpans {
  readonly expected_weekend: number
  readonly expected_trading_hours: number
  readonly expected_holiday: number
}

export interface GapSummary {
  readonly expected_bars: number
  readonly actual_bars: number
  readonly total_missing: number
  readonly data_completeness_pct: number
  /**
   * Stored bars in the period the schedule does not have (e.g. extended-hours bars analysed for RTH); not counted
   * above.
   */
  readonly unscheduled_bars: number
  readonly missing_breakdown: MissingBreakdown
  readonly closed_spans: ClosedSpans
}

export interface AnalysisPeriod {
  readonly start: string
  readonly end: string
  readonly total_duration_hours: number
  readonly trading_days_in_period: number
}

export interface TradingMetadata {
  readonly calendar_id: string
  readonly timezone: string
  readonly asset_type: string
  /** Which sessions are scheduled: `regular` (KTRDR_USE_RTH, the default) or `extended`. */
  readonly hours: "regular" | "extended"
  /** Where the asset class came from: the symbol cache, or the symbol's own form when it is not cached. */
  readonly source: "symbol_cache" | "symbol_rules"
  /** IB's first bar, when cached: sessions before it expect nothing. */
  readonly head_timestamp: string | null
}

export interface GapWire {
  readonly start_time: string
  readonly end_time: string
  readonly classification: GapClass
  readonly bars_missing: number
  readonly duration_hours: number
  readonly day_context: string
  readonly note: string | null
}

export interface GapAnalysisReport {
  readonly symbol: string
  readonly timeframe: string
  readonly analysis_period: AnalysisPeriod
  readonly trading_metadata: TradingMetadata | null
  readonly summary: GapSummary
  readonly gaps: ReadonlyArray<GapWire>
  readonly recommendations: ReadonlyArray<string>
}

export interface ReportInput {
  readonly symbol: string
  readonly timeframe: Timeframe
  readonly from: number
  readonly to: number
  readonly tradingDays: number
  readonly metadata: TradingMetadata | null
  /** Exchange zone: weekday names in `day_context` are the exchange's days. */
  readonly timeZone: string
  /** From `analyzeGaps` with `includeExpected: true`, so holiday spans can be counted whatever the mode. */
  readonly analysis: GapAnalysis
  /** The series has no stored bars at all (no file, or an empty one). */
  readonly noData: boolean
  readonly mode: GapMode
  readonly includeExpected: boolean
}

const HOUR_MS = 3_600_000

/** Gaps listed in one answer: a series with every other bar missing would otherwise answer with millions. */
export const MAX_LISTED_GAPS = 10_000

/** `YYYY-MM-DDTHH:MM:SSZ`, the data API's instant format. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

const round = (x: number, digits: number) => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** Runs of scheduled bars absent from the store, as opposed to closed time the calendar explains. */
export const isMissingData = (c: GapClass): boolean =>
  c === "unexpected" || c === "not_loaded" || c === "market_closure"

/**
 * What each mode lists. `normal`: nothing (summary only). `extended`: the gaps with missing bars
 * (`unexpected`, `not_loaded`). `verbose`: every gap, but the calendar-explained `expected_*` spans only
 * when `include_expected` is true — otherwise the same as `extended`. Spans never overlap: closed time
 * inside a run of missing bars belongs to that run.
 */
export const visibleGaps = (gaps: ReadonlyArray<Gap>, mode: GapMode, includeExpected: boolean): ReadonlyArray<Gap> =>
  mode === "normal"
    ? []
    : mode === "verbose" && includeExpected
    ? gaps
    : gaps.filter((g) => isMissingData(g.classification))

/** KTRDR's `day_context`: one weekday (flagged around weekends) or `"Start-End"` weekdays, in the exchange's zone. */
export const dayContext = (start: number, end: number, timeZone: string): string => {
  const day = (ms: number) => DateTime.fromMillis(ms, { zone: timeZone }).setLocale("en-US").weekdayLong ?? ""
  // The end is exclusive: a gap ending at midnight belongs to the day before.
  const [a, b] = [day(start), day(Math.max(start, end - 1))]
  if (a !== b) return `${a}-${b}`
  return a === "Friday" ? "Friday (pre-weekend)" : a === "Monday" ? "Monday (post-weekend)" : a
}

export const gapWire = (g: Gap, timeZone: string): GapWire => ({
  start_time: isoSeconds(g.start),
  end_time: isoSeconds(g.end),
  classification: g.classification,
  bars_missing: g.barsMissing,
  duration_hours: round(g.durationHours, 4),
  day_context: dayContext(g.start, g.end, timeZone),
  note: g.note
})

const tier = (pct: number): string =>
  pct >= 99 ?
    "Excellent data completeness - no action needed"
    : pct >= 95 ?
    "Good data completeness - monitor for trends"
    : pct >= 90 ?
    "Acceptable data completeness - consider improving data collection"
    : "Poor data completeness - immediate attention required"

export const NO_DATA_RECOMMENDATIONS: ReadonlyArray<string> = [
  "No data available: No data found",
  "Complete data collection needed"
]

/** KTRDR's rules, over all gaps whatever the mode shows: a completeness tier, then what needs looking at. */
export const recommendationsFor = (
  completenessPct: number,
  gaps: ReadonlyArray<Pick<Gap, "classification" | "barsMissing">>,
  noData: boolean
): ReadonlyArray<string> => {
  if (noData) return NO_DATA_RECOMMENDATIONS
  const count = (c: GapClass) => gaps.filter((g) => g.classification === c).length
  const out = [tier(completenessPct)]
  const unexpected = count("unexpected")
  if (unexpected === 1) out.push("1 unexpected gap requires investigation")
  else if (unexpected > 1) out.push(`${unexpected} unexpected gaps require investigation`)
  const notLoaded = gaps.filter((g) => g.classification === "not_loaded")
  if (notLoaded.length > 0) {
    const bars = notLoaded.reduce((n, g) => n + g.barsMissing, 0)
    out.push(
      `${bars} bars of the period lie outside the stored range (not loaded, not counted as missing) - ` +
        "load them (backfill or full mode) to analyse them"
    )
  }
  if (count("expected_holiday") > 5) out.push("Many holiday gaps detected - verify trading calendar")
  return out
}

const emptyBreakdown: MissingBreakdown = {
  unexpected: 0,
  not_loaded: 0,
  expected_weekend: 0,
  expected_trading_hours: 0,
  expected_holiday: 0,
  market_closure: 0
}

/** With nothing stored, every expected bar is one hole, not loaded (KTRDR called it unexpected). */
const noDataGaps = (a: GapAnalysis, tf: Timeframe): ReadonlyArray<Gap> => {
  const first = a.missing[0]
  const last = a.missing[a.missing.length - 1]
  if (!first || !last || a.expectedBars === 0) return []
  return [{
    start: first[0],
    end: last[1],
    classification: "not_loaded",
    barsMissing: a.expectedBars,
    sessions: a.missingSessions,
    durationHours: (last[1] - first[0]) / HOUR_MS,
    note: `No ${tf.id} data stored - complete data collection needed`
  }]
}

export const buildReport = (input: ReportInput): GapAnalysisReport => {
  const a = input.analysis
  const all = input.noData ? noDataGaps(a, input.timeframe) : a.gaps
  const breakdown = { ...emptyBreakdown }
  const closed = { expected_weekend: 0, expected_trading_hours: 0, expected_holiday: 0 }
  for (const g of all) {
    breakdown[g.classification] += g.barsMissing
    if (!isMissingData(g.classification)) closed[g.classification as keyof ClosedSpans]++
  }
  if (input.noData) {
    for (const g of a.gaps) if (!isMissingData(g.classification)) closed[g.classification as keyof ClosedSpans]++
  }
  // Nothing stored at all is 0 % complete, not "100 % of the stored range".
  const completeness = input.noData ? 0 : round(a.completenessPct, 2)
  const listed = visibleGaps(all, input.mode, input.includeExpected)
  return {
    symbol: input.symbol,
    timeframe: input.timeframe.id,
    analysis_period: {
      start: isoSeconds(input.from),
      end: isoSeconds(input.to),
      total_duration_hours: round((input.to - input.from) / HOUR_MS, 4),
      trading_days_in_period: input.tradingDays
    },
    trading_metadata: input.metadata,
    summary: {
      expected_bars: a.expectedBars,
      actual_bars: a.presentBars,
      total_missing: a.missingBars - a.notLoadedBars,
      data_completeness_pct: completeness,
      unscheduled_bars: a.unscheduledBars,
      missing_breakdown: breakdown,
      closed_spans: closed
    },
    gaps: listed.slice(0, MAX_LISTED_GAPS).map((g) => gapWire(g, input.timeZone)),
    recommendations: [
      ...recommendationsFor(completeness, all, input.noData),
      ...(a.unscheduledBars > 0 ? [unscheduledNote(a.unscheduledBars, input.metadata?.hours)] : []),
      ...(listed.length > MAX_LISTED_GAPS
        ? [`Only the first ${MAX_LISTED_GAPS} of ${listed.length} gaps are listed - narrow start_date/end_date`]
        : [])
    ]
  }
}

/** Stored bars the schedule lacks: most often a file of extended-hours bars analysed for regular hours. */
const unscheduledNote = (n: number, hours: "regular" | "extended" | undefined) =>
  `${n} stored bar${n === 1 ? "" : "s"} outside the ${hours ?? "analysed"} trading schedule not counted` +
  (hours === "regular" ? " - extended-hours data? Analyse it with KTRDR_USE_RTH=false" : "")

export interface BatchError {
  readonly symbol: string
  readonly error: string
}

export interface OverallSummary {
  readonly total_symbols: number
  readonly total_expected_bars: number
  readonly total_actual_bars: number
  readonly total_missing_bars: number
  readonly average_completeness_pct: number
  readonly overall_completeness_pct: number
  readonly aggregated_missing_breakdown: MissingBreakdown
}

export interface BatchReport {
  readonly request_summary: {
    readonly symbols_requested: number
    readonly symbols_successful: number
    readonly symbols_failed: number
    readonly timeframe: string
    readonly analysis_period: string
    readonly mode: GapMode
    readonly include_expected: boolean
  }
  readonly results: ReadonlyArray<GapAnalysisReport>
  readonly errors: ReadonlyArray<BatchError>
  /** `{}` when no symbol succeeded (KTRDR's shape). */
  readonly overall_summary: OverallSummary | Record<string, never>
}

/** Totals over the successful symbols; an empty object when there are none. */
export const overallSummary = (results: ReadonlyArray<GapAnalysisReport>): OverallSummary | Record<string, never> => {
  if (results.length === 0) return {}
  const sum = (f: (r: GapAnalysisReport) => number) => results.reduce((n, r) => n + f(r), 0)
  const expected = sum((r) => r.summary.expected_bars)
  const actual = sum((r) => r.summary.actual_bars)
  // Completeness over what is loaded, as for one symbol; a symbol with nothing stored counts whole (0 %).
  const loaded = sum((r) =>
    r.summary.actual_bars === 0
      ? r.summary.expected_bars
      : r.summary.expected_bars - r.summary.missing_breakdown.not_loaded
  )
  const breakdown = { ...emptyBreakdown }
  for (const r of results) {
    for (const k of Object.keys(breakdown) as Array<keyof MissingBreakdown>) {
      breakdown[k] += r.summary.missing_breakdown[k]
    }
  }
  return {
    total_symbols: results.length,
    total_expected_bars: expected,
    total_actual_bars: actual,
    total_missing_bars: sum((r) => r.summary.total_missing),
    average_completeness_pct: round(sum((r) => r.summary.data_completeness_pct) / results.length, 2),
    // Nothing expected is complete, as for one symbol.
    overall_completeness_pct: loaded === 0
      ? (actual === 0 && expected > 0 ? 0 : 100)
      : round((actual / loaded) * 100, 2),
    aggregated_missing_breakdown: breakdown
  }
}

export const batchReport = (
  request: {
    readonly symbolsRequested: number
    readonly timeframe: string
    readonly from: number
    readonly to: number
    readonly mode: GapMode
    readonly includeExpected: boolean
  },
  results: ReadonlyArray<GapAnalysisReport>,
  errors: ReadonlyArray<BatchError>
): BatchReport => ({
  request_summary: {
    symbols_requested: request.symbolsRequested,
    symbols_successful: results.length,
    symbols_failed: errors.length,
    timeframe: request.timeframe,
    analysis_period: `${isoSeconds(request.from)} to ${isoSeconds(request.to)}`,
    mode: request.mode,
    include_expected: request.includeExpected
  },
  results,
  errors,
  overall_summary: overallSummary(results)
})
