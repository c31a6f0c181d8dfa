import { HttpApiBuilder } from "@effect/platform"
import { Effect, Schema, Stream } from "effect"
import { isTerminal, summaryOf } from "../../domain/operation.ts"
import { Operations, type OperationConflict, type OperationNotFound } from "../../services/Operations.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { CancelRequest } from "../../contract/api/operations.ts"
import { BadRequest, Conflict, NotFoundError, ok } from "../../contract/envelope.ts"
import { sseResponse } from "../sse.ts"

export const operationError = (e: OperationNotFound | OperationConflict) =>
  e._tag === "OperationNotFound"
    ? new NotFoundError({ code: "OPERATIONS-NotFound", message: e.message, details: { operation_id: e.id } })
    : new Conflict({
      code: "OPERATIONS-InvalidState",
      message: e.message,
      details: { operation_id: e.id, status: e.status }
    })

const decodeCancel = Schema.decodeUnknown(CancelRequest)

/** DELETE's body is optional (KTRDR's CLI sends one only with a reason), so it is read here, not by HttpApi. */
const cancelBody = (text: string) =>
  Effect.try({
    try: () => (text.trim() === "" ? {} : JSON.parse(text) as unknown),
    catch: () => "the body is not valid JSON"
  }).pipe(
    Effect.flatMap((json) => Effect.mapError(decodeCancel(json), (e) => e.message)),
    Effect.mapError((message) => new BadRequest({ code: "OPERATIONS-InvalidCancelRequest", message, details: null }))
  )

export const OperationsLiveHandlers = HttpApiBuilder.group(
  KtrdrApi,
  "operations",
  (handlers) =>
    Effect.gen(function*() {
      const ops = yield* Operations
      return handlers
        .handle("list", ({ urlParams }) =>
          Effect.map(
            ops.list({
              status: urlParams.status,
              operationType: urlParams.operation_type,
              activeOnly: urlParams.active_only,
              limit: urlParams.limit,
              offset: urlParams.offset
            }),
            (r) => ({
              success: true as const,
              data: r.items.map(summaryOf),
              total_count: r.total,
              active_count: r.active,
              error: null
            })
          ))
        .handle("get", ({ path }) => ops.get(path.id).pipe(Effect.map(ok), Effect.mapError(operationError)))
        .handle("cancel", ({ path, request }) =>
          Effect.gen(function*() {
            const text = yield* Effect.orElseSucceed(request.text, () => "")
            const body = yield* cancelBody(text)
            const r = yield* ops.cancel(path.id, body.reason ?? null).pipe(Effect.mapError(operationError))
            return ok({
              success: r.taskCancelled,
              operation_id: path.id,
              status: r.info.status,
              cancelled_at: r.cancelledAt,
              cancellation_reason: r.reason,
              task_cancelled: r.taskCancelled,
              training_session_cancelled: false,
              operation: r.info
            })
          }))
        .handle("retry", ({ path }) => ops.retry(path.id).pipe(Effect.map(ok), Effect.mapError(operationError)))
        .handle("events", ({ path }) =>
          Effect.map(Effect.mapError(ops.events(path.id), operationError), (changes) =>
            sseResponse(
              changes.pipe(
                Stream.zipWithIndex,
                Stream.map(([info, i]) => ({ id: i, event: isTerminal(info.status) ? "end" : "progress", data: info }))
              )
            )))
    })
)
