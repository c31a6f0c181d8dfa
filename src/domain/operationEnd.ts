/**
 * How an operation's record is created and how it ends, for every registry that keeps one (the in-process one and
 * the cluster's table): the same request gives the same OperationInfo, the same result or failure the same terminal
 * state, whichever process ran the load.
 */
import type { LoadProgress, LoadRequest, LoadResult } from "./loadTypes.ts"
import {
  durationSeconds,
  initialProgress,
  isoUtc,
  metadataOf,
  type OperationFailure,
  type OperationInfo,
  progressOf,
  resultSummaryOf
} from "./operation.ts"
import { qualityLines } from "./qualitySummary.ts"

export const newOperationInfo = (
  id: string,
  req: LoadRequest,
  parameters: Record<string, unknown>,
  retryOf: string | null,
  nowMs: number
): OperationInfo => ({
  operation_id: id,
  operation_type: "data_load",
  status: "pending",
  created_at: isoUtc(nowMs),
  started_at: null,
  completed_at: null,
  duration_seconds: null,
  progress: initialProgress,
  metadata: metadataOf(req, parameters),
  error_message: null,
  warnings: [],
  errors: [],
  result_summary: null,
  failure: null,
  retry_of: retryOf
})

/** The progress of a report; waiting for the gateway is no step, so the count stays where the load was. */
export const withProgress = (i: OperationInfo, p: LoadProgress): OperationInfo => {
  const next = progressOf(p)
  return {
    ...i,
    progress: p.phase === "waiting_for_gateway" ? { ...next, steps_completed: i.progress.steps_completed } : next
  }
}

const ended = (startedMs: number | null, nowMs: number) => ({
  completed_at: isoUtc(nowMs),
  duration_seconds: durationSeconds(startedMs, nowMs, nowMs)
})

export const completedInfo = (
  i: OperationInfo,
  r: LoadResult,
  cachedBefore: boolean,
  startedMs: number | null,
  nowMs: number
): OperationInfo => ({
  ...i,
  ...ended(startedMs, nowMs),
  status: "completed",
  progress: { ...i.progress, percentage: 100 },
  warnings: [
    ...(r.segmentsFailed > 0
      ? [`${r.segmentsFailed} of ${r.segmentsPlanned} segments failed; ${r.gapsLeft} expected bars still missing`]
      : []),
    ...(r.quality === null ? [] : qualityLines(r.quality))
  ],
  result_summary: resultSummaryOf(r, cachedBefore)
})

export const failedInfo = (
  i: OperationInfo,
  f: OperationFailure,
  startedMs: number | null,
  nowMs: number
): OperationInfo => ({
  ...i,
  ...ended(startedMs, nowMs),
  status: "failed",
  error_message: `[${f.code}] ${f.message}`,
  errors: [`[${f.code}] ${f.message}`],
  failure: f
})

/** Interrupted (cancel or shutdown): what the last progress said was fetched, and what is stored now. */
export const cancelledInfo = (
  i: OperationInfo,
  reason: string,
  last: LoadProgress | null,
  span: { readonly first: number; readonly last: number } | null,
  startedMs: number | null,
  nowMs: number
): OperationInfo => ({
  ...i,
  ...ended(startedMs, nowMs),
  status: "cancelled",
  error_message: reason,
  result_summary: {
    status: "cancelled",
    fetched_bars: last?.barsFetched ?? 0,
    segments_fetched: last?.segmentsCompleted ?? 0,
    segments_planned: last?.segmentsTotal ?? 0,
    first_bar: span === null ? null : new Date(span.first).toISOString(),
    last_bar: span === null ? null : new Date(span.last).toISOString()
  }
})
