/**
 * Gap-analysis answers in KTRDR's current models (ktrdr-api-contract.md §3.7: `GapAnalysisResponse`,
 * `BatchGapAnalysisResponse`, `GapAnalysisMode`) as a superset of ours: KTRDR's keys are added beside our own
 * (their names never collide except `results`, see batchOut), computed from the same calendar analysis.
 *
 * Where KTRDR's rules were inconsistent they are made one: a gap is `critical` over 24 h, `major` over 4 h, else
 * `minor` — in each gap's `severity` and in the summary's counts alike (KTRDR counted `major_gaps` over 8 h). Counts
 * and missing hours cover the gaps with missing bars (`unexpected`, `not_loaded`, `market_closure`), whatever the
 * mode lists; closed time the calendar explains is not missing data.
 */
import { Either } from "effect"
import {
  type BatchReport,
  type GapAnalysisReport,
  type GapMode,
  type GapWire,
  isMissingData
} from "../domain/gapReport.ts"
import { seriesKeyOf } from "../domain/Instrument.ts"

export type KtrdrGapMode = "quick" | "normal" | "detailed" | "comprehensive"
export type AnyGapMode = KtrdrGapMode | GapMode

/** Which of our listings a mode asks for, and the KTRDR mode the answer reports. */
export const resolveMode = (mode: AnyGapMode, includeExpected: boolean) => {
  switch (mode) {
    case "quick":
    case "detailed":
      // KTRDR lists every gap, the calendar-explained ones included
      return { mode: "verbose" as const, includeExpected: true, analysisMode: mode }
    case "comprehensive":
      return { mode: "extended" as const, includeExpected, analysisMode: mode }
    case "normal":
      return { mode: "normal" as const, includeExpected, analysisMode: mode }
    case "extended":
      return { mode, includeExpected, analysisMode: "comprehensive" as const }
    case "verbose":
      return { mode, includeExpected, analysisMode: "detailed" as const }
  }
}

/** Runs of bars the store lacks: unexpected holes, runs outside the stored range (`not_loaded`), closures. */
const missingData = (g: GapWire) => isMissingData(g.classification)

/** What a mode lists of a report made with every gap (verbose + include_expected). */
export const listedGaps = (all: ReadonlyArray<GapWire>, mode: GapMode, includeExpected: boolean) =>
  mode === "normal" ? [] : mode === "verbose" && includeExpected ? all : all.filter(missingData)

/** `…Z` → `…+00:00`: Python's `isoformat()`, KTRDR's form for these strings. */
const pyIso = (s: string) => s.replace(/Z$/, "+00:00")
const round2 = (x: number) => Math.round(x * 100) / 100

export const severityOf = (
  hours: number
) => (hours > 24 ? "critical" as const : hours > 4 ? "major" as const : "minor" as const)

export const gapOut = (g: GapWire) => ({
  ...g,
  start_time: pyIso(g.start_time),
  end_time: pyIso(g.end_time),
  // KTRDR's enum has no `not_loaded`: to its clients a run outside the stored range is an unexpected hole
  gap_type: g.classification === "not_loaded" ? "unexpected" as const : g.classification,
  severity: severityOf(g.duration_hours),
  /** The gap lies in scheduled trading time (bars are missing), not in time the market was closed. */
  market_hours: missingData(g),
  trading_session: g.day_context,
  volume_impact: null,
  price_impact: null
})

const summaryOut = (r: GapAnalysisReport) => {
  const missing = r.gaps.filter(missingData)
  const coverage = r.summary.data_completeness_pct
  return {
    ...r.summary,
    total_gaps: missing.length,
    critical_gaps: missing.filter((g) => severityOf(g.duration_hours) === "critical").length,
    major_gaps: missing.filter((g) => severityOf(g.duration_hours) === "major").length,
    minor_gaps: missing.filter((g) => severityOf(g.duration_hours) === "minor").length,
    total_missing_hours: round2(missing.reduce((h, g) => h + g.duration_hours, 0)),
    coverage_percentage: coverage,
    data_quality_score: round2(Math.min(100, Math.max(0, coverage * 0.8)))
  }
}

/** Python's naive `isoformat()` with microseconds, in UTC (KTRDR used the server's local time). */
export const generatedAt = (nowMs: number) => new Date(nowMs).toISOString().replace(/\.(\d{3})Z$/, ".$1000")

/** One analysis, made with every gap (`all`), as the superset answer for the requested mode. */
export const reportOut = (
  all: GapAnalysisReport,
  m: ReturnType<typeof resolveMode>,
  nowMs: number
) => ({
  success: true as const,
  ...all,
  start_date: pyIso(all.analysis_period.start),
  end_date: pyIso(all.analysis_period.end),
  summary: summaryOut(all),
  gaps: listedGaps(all.gaps, m.mode, m.includeExpected).map(gapOut),
  analysis_mode: m.analysisMode,
  generated_at: generatedAt(nowMs)
})

/**
 * The batch answer. `results` is KTRDR's map `{symbol: GapAnalysisResponse}` (our older answer had an array under
 * the same key: KTRDR's model wins, ktrdr-ts clients never read it); `request_summary` and `errors` stay.
 */
export const batchOut = (
  b: BatchReport,
  reports: ReadonlyArray<ReturnType<typeof reportOut>>,
  analysisMode: KtrdrGapMode,
  from: number,
  to: number,
  nowMs: number
) => ({
  success: true as const,
  timeframe: b.request_summary.timeframe,
  start_date: new Date(from).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
  end_date: new Date(to).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
  request_summary: b.request_summary,
  // keyed by series key (`EURUSD`), as KTRDR names the series
  results: Object.fromEntries(reports.map((r) => [Either.getOrElse(seriesKeyOf(r.symbol), () => r.symbol), r])),
  errors: b.errors,
  overall_summary: {
    ...b.overall_summary,
    symbols_requested: b.request_summary.symbols_requested,
    symbols_successful: b.request_summary.symbols_successful,
    symbols_failed: b.request_summary.symbols_failed,
    mode: analysisMode,
    errors: b.errors
  },
  generated_at: generatedAt(nowMs)
})
