/**
 * KTRDR's OperationInfo (ktrdr-api-cli.md §3.2) and the pure rules around it: ids, how a load's progress
 * and result fill it, and which terminal operations to forget. Additions to KTRDR's shape, all optional
 * for old clients: `duration_seconds`, progress `phase` and `bars_fetched`, `failure` (the typed error
 * with its IB code) and `retry_of`.
 */
import { Schema } from "effect"
import type { LoadMode, LoadProgress, LoadRequest, LoadResult } from "./loadTypes.ts"

export const OperationStatus = Schema.Literal("pending", "running", "completed", "failed", "cancelled")
export type OperationStatus = typeof OperationStatus.Type
export const OperationType = Schema.Literal(
  "data_load",
  "training",
  "backtesting",
  "indicator_compute",
  "fuzzy_analysis"
)
export type OperationType = typeof OperationType.Type

export const TERMINAL: ReadonlySet<OperationStatus> = new Set(["completed", "failed", "cancelled"])
export const isTerminal = (s: OperationStatus) => TERMINAL.has(s)

export const OperationProgress = Schema.Struct({
  percentage: Schema.Number,
  current_step: Schema.NullOr(Schema.String),
  steps_completed: Schema.Number,
  steps_total: Schema.Number,
  items_processed: Schema.Number,
  items_total: Schema.NullOr(Schema.Number),
  current_item: Schema.NullOr(Schema.String),
  phase: Schema.optional(Schema.String),
  bars_fetched: Schema.optional(Schema.Number)
})
export type OperationProgress = typeof OperationProgress.Type

export const OperationMetadata = Schema.Struct({
  symbol: Schema.NullOr(Schema.String),
  timeframe: Schema.NullOr(Schema.String),
  mode: Schema.NullOr(Schema.String),
  start_date: Schema.NullOr(Schema.String),
  end_date: Schema.NullOr(Schema.String),
  parameters: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})
export type OperationMetadata = typeof OperationMetadata.Type

export const OperationFailure = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  details: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type OperationFailure = typeof OperationFailure.Type

export const OperationInfo = Schema.Struct({
  operation_id: Schema.String,
  operation_type: OperationType,
  status: OperationStatus,
  created_at: Schema.String,
  started_at: Schema.NullOr(Schema.String),
  completed_at: Schema.NullOr(Schema.String),
  duration_seconds: Schema.NullOr(Schema.Number),
  progress: OperationProgress,
  metadata: OperationMetadata,
  error_message: Schema.NullOr(Schema.String),
  warnings: Schema.Array(Schema.String),
  errors: Schema.Array(Schema.String),
  result_summary: Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  failure: Schema.optional(Schema.NullOr(OperationFailure)),
  retry_of: Schema.optional(Schema.NullOr(Schema.String))
})
export type OperationInfo = typeof OperationInfo.Type

export const OperationSummary = Schema.Struct({
  operation_id: Schema.String,
  operation_type: OperationType,
  status: OperationStatus,
  created_at: Schema.String,
  progress_percentage: Schema.Number,
  current_step: Schema.NullOr(Schema.String),
  symbol: Schema.NullOr(Schema.String),
  duration_seconds: Schema.NullOr(Schema.Number)
})
export type OperationSummary = typeof OperationSummary.Type

/** KTRDR's microsecond ISO form with `Z`, e.g. `2025-07-06T21:34:01.123000Z`. */
export const isoUtc = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z")

/** `op_data_load_20250706_213401_1a2b3c4d`; a retry is `op_retry_data_load_…`. */
export const operationId = (type: OperationType, nowMs: number, hex8: string, retry = false) => {
  const t = new Date(nowMs).toISOString()
  const stamp = `${t.slice(0, 10).replaceAll("-", "")}_${t.slice(11, 19).replaceAll(":", "")}`
  return `op_${retry ? "retry_" : ""}${type}_${stamp}_${hex8}`
}

/** The phases of a load, in order: `steps_completed` is the index of the phase reached. */
const PHASES: ReadonlyArray<Exclude<LoadProgress["phase"], "waiting_for_gateway">> = [
  "validating_symbol",
  "checking_head_timestamp",
  "loading_local_data",
  "analyzing_gaps",
  "planning_segments",
  "fetching_segments",
  "saving",
  "done"
]

export const initialProgress: OperationProgress = {
  percentage: 0,
  current_step: null,
  steps_completed: 0,
  steps_total: PHASES.length,
  items_processed: 0,
  items_total: null,
  current_item: null
}

export const progressOf = (p: LoadProgress): OperationProgress => ({
  percentage: Math.round(p.percentage * 100) / 100,
  current_step: p.step,
  // Waiting for the gateway is not a step of its own: the caller keeps the step count where it was (0 here).
  steps_completed: p.phase === "waiting_for_gateway" ? 0 : PHASES.indexOf(p.phase) + (p.phase === "done" ? 1 : 0),
  steps_total: PHASES.length,
  items_processed: p.segmentsCompleted,
  items_total: p.segmentsTotal > 0 ? p.segmentsTotal : null,
  current_item: p.currentSegment ?? null,
  phase: p.phase,
  bars_fetched: p.barsFetched
})

export const metadataOf = (r: LoadRequest, parameters: Record<string, unknown> = {}): OperationMetadata => ({
  symbol: r.symbol,
  timeframe: r.timeframe,
  mode: r.mode,
  start_date: r.start === undefined ? null : new Date(r.start).toISOString(),
  end_date: r.end === undefined ? null : new Date(r.end).toISOString(),
  parameters
})

/** `result_summary` from a finished load: every KTRDR key, each one measured (none is a placeholder). */
export const resultSummaryOf = (r: LoadResult, cachedBefore: boolean): Record<string, unknown> => ({
  status: r.segmentsFailed > 0 ? "partial" : "success",
  fetched_bars: r.barsFetched,
  new_bars: r.newBars,
  execution_time_seconds: r.durationMs / 1000,
  mode: r.mode satisfies LoadMode,
  symbol: r.symbol,
  timeframe: r.timeframe,
  cached_before: cachedBefore,
  merged_file: r.totalBars > 0 ? `${r.seriesKey}_${r.timeframe}.csv` : "",
  gaps_analyzed: r.range === null ? 0 : 1,
  range_start: r.range === null ? null : new Date(r.range.from).toISOString(),
  range_end: r.range === null ? null : new Date(r.range.to).toISOString(),
  default_history: r.defaultHistory ?? null,
  segments_planned: r.segmentsPlanned,
  segments_fetched: r.segmentsFetched,
  segments_empty: r.segmentsEmpty,
  segments_failed: r.segmentsFailed,
  ib_requests_made: r.ibRequests,
  lookup_requests: r.lookupRequests,
  requests_retried: r.requestsRetried,
  retry_reasons: { ...r.retryReasons },
  pacing_wait_seconds: r.pacingWaitMs / 1000,
  gaps_left: r.gapsLeft,
  total_bars: r.totalBars,
  first_bar: r.firstBar === null ? null : new Date(r.firstBar).toISOString(),
  last_bar: r.lastBar === null ? null : new Date(r.lastBar).toISOString(),
  checkpoints: r.checkpoints,
  quality: r.quality === null ? null : {
    checked_bars: r.quality.checkedBars,
    errors: r.quality.errors,
    warnings: r.quality.warnings,
    issues: r.quality.issues.map((i) => ({
      type: i.type,
      severity: i.severity,
      count: i.count,
      description: i.description,
      threshold: i.threshold,
      bars: i.bars
    }))
  }
})

export const durationSeconds = (startedMs: number | null, completedMs: number | null, nowMs: number): number | null =>
  startedMs === null ? null : Math.max(0, ((completedMs ?? nowMs) - startedMs) / 1000)

export const summaryOf = (o: OperationInfo): OperationSummary => ({
  operation_id: o.operation_id,
  operation_type: o.operation_type,
  status: o.status,
  created_at: o.created_at,
  progress_percentage: o.progress.percentage,
  current_step: o.progress.current_step,
  symbol: o.metadata.symbol,
  duration_seconds: o.duration_seconds
})

export interface Retention {
  readonly ttlMs: number
  /** Terminal operations kept at most; the oldest finished go first. */
  readonly maxTerminal: number
}

/**
 * Ids of terminal operations to forget: older than the TTL, then the oldest beyond the cap. Running ones are never
 * dropped.
 */
export const expiredIds = (
  ops: ReadonlyArray<{ readonly id: string; readonly terminalAt: number | null }>,
  nowMs: number,
  r: Retention
): ReadonlyArray<string> => {
  const terminal = ops.filter((o) => o.terminalAt !== null).sort((a, b) => b.terminalAt! - a.terminalAt!)
  return terminal.filter((o, i) => nowMs - o.terminalAt! > r.ttlMs || i >= r.maxTerminal).map((o) => o.id)
}
