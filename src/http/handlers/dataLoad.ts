/**
 * POST /data/load: every load is an operation (so it can be watched, cancelled and retried); sync mode
 * waits for its outcome without blocking the server, async mode answers with the operation id at once.
 */
import { Effect, Either } from "effect"
import { parseDateRange } from "../../domain/dateParams.ts"
import type { LoadResult } from "../../domain/loadTypes.ts"
import { resultSummaryOf } from "../../domain/operation.ts"
import { Operations } from "../../services/Operations.ts"
import { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import type { DataLoadRequest, DataLoadResponse } from "../../contract/api/data.ts"
import { Conflict } from "../../contract/envelope.ts"
import { apiErrors, toApiError } from "../errorMapping.ts"

const started = (operationId: string): DataLoadResponse => ({
  status: "started",
  operation_id: operationId,
  fetched_bars: 0,
  new_bars: 0,
  cached_before: false,
  merged_file: "",
  gaps_analyzed: 0,
  segments_fetched: 0,
  segments_failed: 0,
  ib_requests_made: 0,
  total_bars: 0,
  execution_time_seconds: 0,
  error_message: null
})

const finished = (operationId: string, r: LoadResult, cachedBefore: boolean): DataLoadResponse => {
  const s = resultSummaryOf(r, cachedBefore)
  return {
    status: r.segmentsFailed > 0 ? "partial" : "success",
    operation_id: operationId,
    fetched_bars: r.barsFetched,
    new_bars: r.newBars,
    cached_before: cachedBefore,
    merged_file: String(s["merged_file"]),
    gaps_analyzed: r.range === null ? 0 : 1,
    segments_fetched: r.segmentsFetched,
    segments_failed: r.segmentsFailed,
    ib_requests_made: r.ibRequests,
    total_bars: r.totalBars,
    execution_time_seconds: r.durationMs / 1000,
    error_message: r.segmentsFailed > 0
      ? `${r.segmentsFailed} of ${r.segmentsPlanned} segments failed; ${r.gapsLeft} expected bars still missing`
      : null,
    lookup_requests: r.lookupRequests,
    requests_retried: r.requestsRetried,
    retry_reasons: { ...r.retryReasons }
  }
}

/** Validates the request and starts the load as an operation (running when this returns). */
export const startLoad = (body: DataLoadRequest) =>
  Effect.gen(function*() {
    const ops = yield* Operations
    const catalog = yield* SymbolCatalog
    // Bad input is refused before an operation exists or a file is touched.
    const parsed = yield* apiErrors(catalog.parse(body.symbol))
    const range = yield* apiErrors(
      Either.match(parseDateRange(body.start_date, body.end_date), { onLeft: Effect.fail, onRight: Effect.succeed })
    )
    const wait = body.wait_for_gateway === true
    const parameters = {
      filters: body.filters ?? {},
      ...(body.periodic_save_minutes === undefined ? {} : { periodic_save_minutes: body.periodic_save_minutes }),
      ...(wait ? { wait_for_gateway: true } : {})
    }
    return yield* ops.startLoad({
      symbol: parsed.symbol,
      timeframe: body.timeframe,
      mode: body.mode,
      start: range.start,
      end: range.end,
      ...(wait ? { waitForGateway: true } : {})
    }, parameters)
  })

export const loadHandler = (body: DataLoadRequest, asyncMode: boolean) =>
  Effect.gen(function*() {
    const ops = yield* Operations
    const info = yield* startLoad(body)
    if (asyncMode) return started(info.operation_id)
    const result = yield* ops.outcome(info.operation_id).pipe(
      Effect.catchTags({
        OperationNotFound: (e) =>
          Effect.fail(
            new Conflict({
              code: "OPERATIONS-Evicted",
              message: e.message,
              details: { operation_id: info.operation_id }
            })
          ),
        OperationCancelled: (e) =>
          Effect.fail(
            new Conflict({
              code: "OPERATIONS-Cancelled",
              message: e.message,
              details: { operation_id: info.operation_id }
            })
          )
      }),
      Effect.mapError((e) => (e._tag === "Conflict" ? e : toApiError(e)))
    )
    const after = yield* ops.get(info.operation_id).pipe(Effect.option)
    const cachedBefore = after._tag === "Some" && after.value.result_summary?.["cached_before"] === true
    return finished(info.operation_id, result, cachedBefore)
  })
