import { HttpApiBuilder } from "@effect/platform"
import { Effect, Ref, Schema, Stream } from "effect"
import { isTerminal, summaryOf } from "../../domain/operation.ts"
import { Operations, type OperationConflict, type OperationNotFound } from "../../services/Operations.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { CancelRequest, KtrdrOperationStatus } from "../../contract/api/operations.ts"
import { BadRequest, Conflict, NotFoundError, ok } from "../../contract/envelope.ts"
import { knownStatus, knownType, ktrdrInfo, ktrdrSummary } from "../ktrdrOperation.ts"
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
const isKtrdrStatus = Schema.is(KtrdrOperationStatus)

/** DELETE's body is optional (KTRDR's CLI sends one only with a reason), so it is read here, not by HttpApi. */
const cancelBody = (text: string) =>
  Effect.try({
    try: () => (text.trim() === "" ? {} : JSON.parse(text) as unknown),
    catch: () => "the body is not valid JSON"
  }).pipe(
    Effect.flatMap((json) => Effect.mapError(decodeCancel(json), (e) => e.message)),
    Effect.mapError((message) => new BadRequest({ code: "OPERATIONS-InvalidCancelRequest", message, details: null }))
  )

/** KTRDR's list reply; `active_count` covers every operation, whatever the filters. */
const listReply = (items: ReadonlyArray<Parameters<typeof summaryOf>[0]>, total: number, active: number) => ({
  success: true as const,
  data: items.map((o) => ktrdrSummary(summaryOf(o))),
  total_count: total,
  active_count: active,
  error: null
})

export const OperationsLiveHandlers = HttpApiBuilder.group(
  KtrdrApi,
  "operations",
  (handlers) =>
    Effect.gen(function*() {
      const ops = yield* Operations
      // POST …/metrics: merged per operation, kept as long as the server runs (loads report no metrics themselves)
      const metrics = yield* Ref.make(new Map<string, Record<string, unknown>>())
      const get = (id: string) => Effect.mapError(ops.get(id), operationError)
      const cancel = (id: string, reason: string | null) => Effect.mapError(ops.cancel(id, reason), operationError)
      return handlers
        .handle("list", ({ urlParams }) => {
          const { status, operation_type: type } = urlParams
          // A status or type of KTRDR's that no load can have matches nothing (but is not an error).
          const impossible = (status !== undefined && !knownStatus(status)) ||
            (type !== undefined && !knownType(type))
          return Effect.map(
            ops.list({
              status: status !== undefined && knownStatus(status) ? status : undefined,
              operationType: type !== undefined && knownType(type) ? type : undefined,
              activeOnly: urlParams.active_only,
              // KTRDR's default page size
              limit: urlParams.limit ?? 10,
              offset: urlParams.offset
            }),
            (r) => (impossible ? listReply([], 0, r.active) : listReply(r.items, r.total, r.active))
          )
        })
        .handle("get", ({ path }) => Effect.map(get(path.id), (o) => ok(ktrdrInfo(o))))
        .handle("children", ({ path }) =>
          Effect.zipRight(
            get(path.id),
            Effect.succeed({ success: true as const, data: [], total_count: 0, active_count: 0, error: null })
          ))
        .handle("results", ({ path }) =>
          Effect.flatMap(Effect.map(get(path.id), ktrdrInfo), (o) =>
            o.status === "completed" || o.status === "failed"
              ? Effect.succeed({
                success: true as const,
                operation_id: o.operation_id,
                operation_type: o.operation_type,
                status: o.status,
                results: o.result_summary ?? {}
              })
              : Effect.fail(
                new BadRequest({
                  code: "OPERATIONS-NotFinished",
                  message: `Operation not finished (status: ${o.status})`,
                  details: { operation_id: o.operation_id, status: o.status }
                })
              )))
        .handle("metrics", ({ path }) =>
          Effect.gen(function*() {
            const o = yield* get(path.id)
            const m = (yield* Ref.get(metrics)).get(o.operation_id) ?? {}
            return ok({ operation_id: o.operation_id, operation_type: o.operation_type, metrics: m })
          }))
        .handle("postMetrics", ({ path, payload }) =>
          Effect.gen(function*() {
            const o = yield* get(path.id)
            yield* Ref.update(metrics, (cur) => {
              const next = new Map(cur)
              next.set(o.operation_id, { ...cur.get(o.operation_id), ...payload })
              return next
            })
            return { success: true as const, message: "Metrics stored", operation_id: o.operation_id }
          }))
        .handle("resume", ({ path }) =>
          Effect.gen(function*() {
            const before = yield* get(path.id)
            if (before.status !== "failed" && before.status !== "cancelled") {
              return yield* new Conflict({
                code: "OPERATIONS-InvalidState",
                message: before.status === "pending"
                  ? `Cannot resume operation ${path.id} from status pending`
                  : `Operation ${path.id} is already ${before.status}`,
                details: { operation_id: path.id, status: before.status }
              })
            }
            const next = yield* Effect.mapError(ops.retry(path.id), operationError)
            return ok({
              operation_id: next.operation_id,
              status: next.status,
              resumed_from: {
                checkpoint_type: before.status === "failed" ? "failure" as const : "cancellation" as const,
                created_at: before.completed_at ?? before.created_at,
                epoch: null
              },
              resumed_operation_id: path.id
            })
          }))
        .handle("setStatus", ({ path, payload }) =>
          Effect.gen(function*() {
            const wanted = payload.status.toLowerCase()
            if (!isKtrdrStatus(wanted)) {
              return yield* new BadRequest({
                code: "OPERATIONS-StatusUpdateError",
                message: `Invalid status: ${payload.status.slice(0, 40)}`,
                details: { allowed: KtrdrOperationStatus.literals }
              })
            }
            const before = yield* get(path.id)
            const reply = (now: typeof before.status) => ({
              success: true as const,
              operation_id: path.id,
              previous_status: before.status,
              new_status: now
            })
            if (wanted === before.status) {
              return reply(before.status)
            }
            if (wanted === "cancelled") {
              const r = yield* cancel(path.id, payload.error_message ?? null)
              return reply(r.info.status)
            }
            return yield* new Conflict({
              code: "OPERATIONS-InvalidState",
              message: `A load sets its own status; operation ${path.id} (${before.status}) can only be cancelled`,
              details: { operation_id: path.id, status: before.status, requested: wanted }
            })
          }))
        .handle("cancel", ({ path, request }) =>
          Effect.gen(function*() {
            const text = yield* Effect.orElseSucceed(request.text, () =>
              "")
            const body = yield* cancelBody(text)
            const r = yield* cancel(path.id, body.reason ?? null)
            return ok({
              success: r.taskCancelled,
              operation_id: path.id,
              status: r.info.status,
              cancelled_at: r.cancelledAt,
              cancellation_reason: r.reason,
              task_cancelled: r.taskCancelled,
              training_session_cancelled: false,
              remote_cancelled: false,
              children_cancelled: [],
              operation: ktrdrInfo(r.info)
            })
          }))
        .handle("retry", ({ path }) =>
          ops.retry(path.id).pipe(
            Effect.map((o) =>
              ok(ktrdrInfo(o))
            ),
            Effect.mapError(operationError)
          ))
        .handle("events", ({ path }) =>
          Effect.map(Effect.mapError(ops.events(path.id), operationError), (changes) =>
            sseResponse(
              changes.pipe(
                Stream.zipWithIndex,
                Stream.map(([info, i]) => ({
                  id: i,
                  event: isTerminal(info.status) ? "end" : "progress",
                  data: ktrdrInfo(info)
                }))
              )
            )))
    })
)
