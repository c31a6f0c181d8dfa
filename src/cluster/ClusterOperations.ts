/**
 * The Operations service of a cluster runner: the same API as the in-process registry, answered from the operations
 * table, so every runner lists, reads, streams, cancels and retries every load, and all of it survives a restart of
 * every runner. Starting a load writes its row and starts its workflow; the runner that owns the workflow runs it.
 * Cancel records the request in the row and waits until the executing runner has checkpointed and ended the load.
 */
import { EntityAddress, EntityId, EntityType, MessageStorage, Sharding } from "@effect/cluster"
import { Clock, Duration, Effect, Layer, Option, Schedule, Stream } from "effect"
import { randomBytes } from "node:crypto"
import type { LoadError, LoadResult } from "../domain/loadTypes.ts"
import { durationSeconds, isoUtc, isTerminal, type OperationInfo, operationId } from "../domain/operation.ts"
import { newOperationInfo } from "../domain/operationEnd.ts"
import {
  type CancelResult,
  type ListResult,
  OperationCancelled,
  OperationConflict,
  OperationNotFound,
  Operations,
  type OperationsService,
  RetentionConfig
} from "../services/Operations.ts"
import { LoadWorkflow } from "./LoadWorkflow.ts"
import { OperationsTable, type OperationRow } from "./operationsTable.ts"

const POLL = Duration.millis(200)
/** How long startLoad waits for the workflow's runner to pick the load up before answering `pending`. */
const START_WAIT = Duration.seconds(5)
/** How long cancel waits for the executing runner to checkpoint and end the load. */
const CANCEL_WAIT = Duration.seconds(120)

const hex8 = () => randomBytes(4).toString("hex")

const notFound = (id: string) => new OperationNotFound({ id, message: `Operation not found: ${id}` })

/** Reads refresh `duration_seconds` of running operations, as the in-process registry does. */
const snapshot = (row: OperationRow, now: number): OperationInfo =>
  isTerminal(row.info.status) ? row.info : { ...row.info, duration_seconds: durationSeconds(row.startedMs, null, now) }

export const makeClusterOperations = Effect.gen(function*() {
  const table = yield* OperationsTable
  const engineContext = yield* Effect.context<Effect.Effect.Context<ReturnType<typeof LoadWorkflow.execute>>>()
  const die = Effect.orDie
  const row = (id: string) =>
    Effect.flatMap(die(table.get(id)), (r) => r === null ? Effect.fail(notFound(id)) : Effect.succeed(r))
  const info = (id: string) =>
    Effect.flatMap(row(id), (r) => Effect.map(Clock.currentTimeMillis, (now) => snapshot(r, now)))
  /** The row once `done(row)` holds, polled; None after `limit`. */
  const waitFor = (id: string, done: (r: OperationRow) => boolean, limit: Duration.Duration) =>
    row(id).pipe(
      Effect.filterOrFail(done, () => "not yet" as const),
      Effect.retry({ schedule: Schedule.spaced(POLL), while: (e) => e === "not yet" }),
      Effect.timeoutOption(limit),
      Effect.catchIf((e): e is "not yet" => e === "not yet", () => Effect.succeed(Option.none<OperationRow>()))
    )

  const retention = yield* RetentionConfig
  const storage = yield* MessageStorage.MessageStorage
  const sharding = yield* Sharding.Sharding
  /**
   * A forgotten load's workflow messages and replies (its steps' results) go with it: @effect/cluster keeps every
   * persisted message for good, and nothing reads a finished workflow's again.
   */
  const forgetWorkflow = (operationId: string) =>
    Effect.gen(function*() {
      const entityId = EntityId.make(yield* LoadWorkflow.executionId({ operationId }))
      yield* storage.clearAddress(
        EntityAddress.make({
          shardId: sharding.getShardId(entityId, "default"),
          entityType: `Workflow/${LoadWorkflow.name}` as EntityType.EntityType,
          entityId
        })
      )
    }).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning(`could not clear workflow messages of ${operationId}`, cause))
    )
  /** Finished operations past KTRDR_OPERATIONS_TTL / _MAX_KEPT go, when a load starts or the list is read. */
  const prune = Clock.currentTimeMillis.pipe(
    Effect.flatMap((now) => die(table.prune(now, retention))),
    Effect.flatMap((ids) => Effect.forEach(ids, forgetWorkflow, { discard: true }))
  )

  const launch = (
    req: OperationRow["request"],
    parameters: Record<string, unknown>,
    retryOf: string | null
  ) =>
    Effect.gen(function*() {
      yield* prune
      const now = yield* Clock.currentTimeMillis
      const id = operationId("data_load", now, hex8(), retryOf !== null)
      yield* die(table.insert(id, req, parameters, newOperationInfo(id, req, parameters, retryOf, now)))
      yield* LoadWorkflow.execute({ operationId: id }, { discard: true }).pipe(Effect.provide(engineContext))
      yield* waitFor(id, (r) => r.info.status !== "pending", START_WAIT).pipe(Effect.orDie)
      return yield* info(id).pipe(Effect.orDie)
    })

  const service: OperationsService = {
    startLoad: (req, parameters = {}) => launch(req, parameters, null),
    get: info,
    list: (q) =>
      Effect.gen(function*() {
        // Every operation of this registry is a data load: another type matches nothing.
        if (q.operationType !== undefined && q.operationType !== "data_load") {
          const { active } = yield* die(table.page({ activeOnly: true, limit: 0, offset: 0 }))
          return { items: [], total: 0, active } satisfies ListResult
        }
        yield* prune
        const now = yield* Clock.currentTimeMillis
        const { active, rows, total } = yield* die(table.page({
          status: q.status,
          activeOnly: q.activeOnly === true,
          limit: q.limit ?? 100,
          offset: q.offset ?? 0
        }))
        return { items: rows.map((r) => snapshot(r, now)), total, active } satisfies ListResult
      }),
    cancel: (id, reason = null) =>
      Effect.gen(function*() {
        const before = yield* row(id)
        const conflict = (status: string) =>
          new OperationConflict({ id, status, message: `Operation ${id} cannot be cancelled (status: ${status})` })
        if (isTerminal(before.info.status)) return yield* conflict(before.info.status)
        const at = yield* Clock.currentTimeMillis
        const asked = yield* die(table.requestCancel(id, reason ?? "Operation cancelled by user"))
        if (!asked) {
          const now = yield* row(id)
          return yield* conflict(now.info.status)
        }
        const after = yield* waitFor(id, (r) => isTerminal(r.info.status), CANCEL_WAIT).pipe(Effect.orDie)
        const end = Option.isSome(after) ? after.value.info : yield* info(id).pipe(Effect.orDie)
        return {
          info: end,
          taskCancelled: end.status === "cancelled",
          cancelledAt: isoUtc(at),
          reason
        } satisfies CancelResult
      }),
    retry: (id) =>
      Effect.gen(function*() {
        const r = yield* row(id)
        if (r.info.status !== "failed" && r.info.status !== "cancelled") {
          return yield* new OperationConflict({
            id,
            status: r.info.status,
            message:
              `Operation ${id} cannot be retried (status: ${r.info.status}); only failed or cancelled operations can`
          })
        }
        return yield* launch(r.request, r.parameters, id)
      }),
    outcome: (id) =>
      Effect.gen(function*() {
        yield* row(id)
        const done = yield* waitFor(id, (r) => r.outcome !== null, Duration.infinity).pipe(Effect.orDie)
        const o = Option.getOrThrow(done).outcome!
        switch (o._tag) {
          case "done":
            return o.result as LoadResult
          case "failed":
            return yield* Effect.fail(o.error as LoadError)
          case "cancelled":
            return yield* new OperationCancelled({ id, message: o.reason })
        }
      }),
    events: (id) =>
      Effect.map(info(id), (first) =>
        Stream.concat(
          Stream.make(first),
          Stream.repeatEffectWithSchedule(info(id).pipe(Effect.orDie), Schedule.spaced(POLL))
        ).pipe(
          // A new state, not the running clock: duration_seconds alone is no event.
          Stream.changesWith((a, b) =>
            JSON.stringify({ ...a, duration_seconds: 0 }) === JSON.stringify({ ...b, duration_seconds: 0 })
          ),
          Stream.takeUntil((i) => isTerminal(i.status))
        ))
  }
  return service
})

export const ClusterOperationsLive = Layer.effect(Operations, makeClusterOperations)
