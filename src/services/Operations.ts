/**
 * The registry of data loads the server runs: each load is a fiber in the registry's scope with its
 * OperationInfo in a SubscriptionRef, so status reads, live event streams, cancellation (interruption:
 * the DataManager checkpoints what it fetched) and retries (the same request run again) are one
 * mechanism. Closing the registry's scope (server shutdown) cancels running loads the same way.
 */
import {
  Clock,
  Config,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Ref,
  Schema,
  Stream,
  SubscriptionRef
} from "effect"
import { randomBytes } from "node:crypto"
import type { LoadError, LoadProgress, LoadRequest, LoadResult } from "../domain/loadTypes.ts"
import { failureOf } from "../domain/errorBody.ts"
import { cancelledInfo, completedInfo, failedInfo, newOperationInfo, withProgress } from "../domain/operationEnd.ts"
import {
  durationSeconds,
  expiredIds,
  isoUtc,
  isTerminal,
  operationId,
  type OperationInfo,
  type OperationStatus,
  type OperationType,
  type Retention
} from "../domain/operation.ts"
import { BarStore } from "../layers/BarStore.ts"
import { DataManager } from "./DataManager.ts"
import { SymbolCatalog } from "./SymbolCatalog.ts"

export class OperationNotFound extends Schema.TaggedError<OperationNotFound>()("OperationNotFound", {
  id: Schema.String,
  message: Schema.String
}) {}

/** The operation's state does not allow the action (cancel a finished one, retry a running one). */
export class OperationConflict extends Schema.TaggedError<OperationConflict>()("OperationConflict", {
  id: Schema.String,
  status: Schema.String,
  message: Schema.String
}) {}

/** How a load ended when it did not produce a result. */
export class OperationCancelled extends Schema.TaggedError<OperationCancelled>()("OperationCancelled", {
  id: Schema.String,
  message: Schema.String
}) {}

export interface ListQuery {
  readonly status?: OperationStatus | undefined
  readonly operationType?: OperationType | undefined
  readonly activeOnly?: boolean | undefined
  readonly limit?: number | undefined
  readonly offset?: number | undefined
}

export interface ListResult {
  readonly items: ReadonlyArray<OperationInfo>
  /** Matching the filters, before paging. */
  readonly total: number
  /** Pending or running, over all operations. */
  readonly active: number
}

export interface CancelResult {
  readonly info: OperationInfo
  /** False when the load had already finished by the time the cancel reached it. */
  readonly taskCancelled: boolean
  readonly cancelledAt: string
  readonly reason: string | null
}

export interface OperationsService {
  /** Registers and starts a load; returns once it runs (status `running`). */
  readonly startLoad: (req: LoadRequest, parameters?: Record<string, unknown>) => Effect.Effect<OperationInfo>
  readonly get: (id: string) => Effect.Effect<OperationInfo, OperationNotFound>
  readonly list: (q: ListQuery) => Effect.Effect<ListResult>
  /** Interrupts the load and waits until its checkpoint is on disk; Conflict when already finished. */
  readonly cancel: (
    id: string,
    reason?: string | null
  ) => Effect.Effect<CancelResult, OperationNotFound | OperationConflict>
  /** A new operation running the same request; for failed or cancelled loads. */
  readonly retry: (id: string) => Effect.Effect<OperationInfo, OperationNotFound | OperationConflict>
  /** The load's own outcome: its result, its typed error, or OperationCancelled. */
  readonly outcome: (id: string) => Effect.Effect<LoadResult, OperationNotFound | OperationCancelled | LoadError>
  /** The current state, then every change, ending with the terminal state. */
  readonly events: (id: string) => Effect.Effect<Stream.Stream<OperationInfo>, OperationNotFound>
}

export class Operations extends Context.Tag("ktrdr/Operations")<Operations, OperationsService>() {}

interface Entry {
  readonly id: string
  readonly request: LoadRequest
  readonly parameters: Record<string, unknown>
  readonly retryOf: string | null
  readonly state: SubscriptionRef.SubscriptionRef<OperationInfo>
  readonly outcome: Deferred.Deferred<LoadResult, LoadError | OperationCancelled>
  fiber: Fiber.RuntimeFiber<void> | null
  startedMs: number | null
  terminalAt: number | null
  cancelReason: string | null
}

const hex8 = () => randomBytes(4).toString("hex")

export const make = (retention: Retention) =>
  Effect.gen(function*() {
    const dm = yield* DataManager
    const store = yield* BarStore
    const catalog = yield* SymbolCatalog
    const scope = yield* Effect.scope
    const entries = yield* Ref.make(new Map<string, Entry>())

    const evict = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const m = yield* Ref.get(entries)
      const drop = expiredIds([...m.values()].map((e) => ({ id: e.id, terminalAt: e.terminalAt })), now, retention)
      if (drop.length > 0) {
        yield* Ref.update(entries, (cur) => {
          const next = new Map(cur)
          for (const id of drop) next.delete(id)
          return next
        })
      }
    })

    const lookup = (id: string) =>
      Effect.flatMap(Ref.get(entries), (m) => {
        const e = m.get(id)
        return e ? Effect.succeed(e) : Effect.fail(new OperationNotFound({ id, message: `Operation not found: ${id}` }))
      })

    /** Reads refresh `duration_seconds` of running operations. */
    const snapshot = (e: Entry) =>
      Effect.gen(function*() {
        const info = yield* SubscriptionRef.get(e.state)
        if (isTerminal(info.status)) return info
        const now = yield* Clock.currentTimeMillis
        return { ...info, duration_seconds: durationSeconds(e.startedMs, null, now) }
      })

    const storedSpan = (req: LoadRequest) =>
      catalog.parse(req.symbol).pipe(
        Effect.flatMap((p) => store.range(p.seriesKey, req.timeframe)),
        Effect.option
      )

    const finish = (
      e: Entry,
      exit: Exit.Exit<LoadResult, LoadError>,
      lastProgress: LoadProgress | null,
      cachedBefore: boolean
    ) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        e.terminalAt = now
        if (Exit.isSuccess(exit)) {
          yield* SubscriptionRef.update(e.state, (i) => completedInfo(i, exit.value, cachedBefore, e.startedMs, now))
          yield* Deferred.succeed(e.outcome, exit.value)
          return
        }
        const failure = Option.getOrUndefined(
          Exit.causeOption(exit).pipe(
            Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))
          )
        )
        if (failure !== undefined) {
          yield* SubscriptionRef.update(e.state, (i) => failedInfo(i, failureOf(failure), e.startedMs, now))
          yield* Deferred.fail(e.outcome, failure)
          return
        }
        // Interrupted (cancel or shutdown): the DataManager saved what it had; report what is stored now.
        const span = Option.getOrNull(yield* storedSpan(e.request))
        const reason = e.cancelReason ?? (Exit.isInterrupted(exit) ? "Server shutting down" : "Load ended unexpectedly")
        yield* SubscriptionRef.update(e.state, (i) => cancelledInfo(i, reason, lastProgress, span, e.startedMs, now))
        yield* Deferred.fail(e.outcome, new OperationCancelled({ id: e.id, message: reason }))
      })

    const launch = (req: LoadRequest, parameters: Record<string, unknown>, retryOf: string | null) =>
      Effect.gen(function*() {
        yield* evict
        const now = yield* Clock.currentTimeMillis
        const id = operationId("data_load", now, hex8(), retryOf !== null)
        const info = newOperationInfo(id, req, parameters, retryOf, now)
        const entry: Entry = {
          id,
          request: req,
          parameters,
          retryOf,
          state: yield* SubscriptionRef.make(info),
          outcome: yield* Deferred.make<LoadResult, LoadError | OperationCancelled>(),
          fiber: null,
          startedMs: null,
          terminalAt: null,
          cancelReason: null
        }
        yield* Ref.update(entries, (m) => new Map(m).set(id, entry))
        const started = yield* Deferred.make<void>()
        // The fiber belongs to the registry's scope: it outlives the request that started it.
        entry.fiber = yield* Effect.forkIn(
          Effect.uninterruptibleMask((restore) =>
            Effect.gen(function*() {
              const t = yield* Clock.currentTimeMillis
              entry.startedMs = t
              yield* SubscriptionRef.update(
                entry.state,
                (i) => ({ ...i, status: "running" as const, started_at: isoUtc(t) })
              )
              yield* Deferred.succeed(started, undefined)
              const cachedBefore = Option.isSome(yield* storedSpan(req))
              let last: LoadProgress | null = null
              const report = (p: LoadProgress) => {
                last = p
                return SubscriptionRef.update(entry.state, (i) => withProgress(i, p))
              }
              const exit = yield* Effect.exit(restore(dm.run(req, report)))
              yield* finish(entry, exit, last, cachedBefore)
            })
          ),
          scope
        )
        yield* Deferred.await(started)
        return yield* snapshot(entry)
      })

    const service: OperationsService = {
      startLoad: (req, parameters = {}) => launch(req, parameters, null),
      get: (id) => Effect.flatMap(lookup(id), snapshot),
      list: (q) =>
        Effect.gen(function*() {
          yield* evict
          const all = yield* Effect.forEach([...(yield* Ref.get(entries)).values()], snapshot)
          const active = all.filter((o) => !isTerminal(o.status)).length
          const matching = all
            .filter((o) =>
              (q.status === undefined || o.status === q.status) &&
              (q.operationType === undefined || o.operation_type === q.operationType)
            )
            .filter((o) => !q.activeOnly || !isTerminal(o.status))
            .sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0))
          const offset = q.offset ?? 0
          return { items: matching.slice(offset, offset + (q.limit ?? 100)), total: matching.length, active }
        }),
      cancel: (id, reason = null) =>
        Effect.gen(function*() {
          const e = yield* lookup(id)
          const before = yield* SubscriptionRef.get(e.state)
          if (isTerminal(before.status)) {
            return yield* new OperationConflict({
              id,
              status: before.status,
              message: `Operation ${id} cannot be cancelled (status: ${before.status})`
            })
          }
          const at = yield* Clock.currentTimeMillis
          e.cancelReason = reason ?? "Operation cancelled by user"
          // Fiber.interrupt waits for the load's finalizers: the checkpoint is on disk when this returns.
          if (e.fiber) yield* Fiber.interrupt(e.fiber)
          const info = yield* snapshot(e)
          return { info, taskCancelled: info.status === "cancelled", cancelledAt: isoUtc(at), reason }
        }),
      retry: (id) =>
        Effect.gen(function*() {
          const e = yield* lookup(id)
          const info = yield* SubscriptionRef.get(e.state)
          if (info.status !== "failed" && info.status !== "cancelled") {
            return yield* new OperationConflict({
              id,
              status: info.status,
              message:
                `Operation ${id} cannot be retried (status: ${info.status}); only failed or cancelled operations can`
            })
          }
          return yield* launch(e.request, e.parameters, id)
        }),
      outcome: (id) => Effect.flatMap(lookup(id), (e) => Deferred.await(e.outcome)),
      events: (id) => Effect.map(lookup(id), (e) => e.state.changes.pipe(Stream.takeUntil((i) => isTerminal(i.status))))
    }
    return service
  })

export const RetentionConfig: Config.Config<Retention> = Config.all({
  ttlMs: Config.duration("KTRDR_OPERATIONS_TTL").pipe(
    Config.withDefault(Duration.hours(24)),
    Config.map(Duration.toMillis)
  ),
  maxTerminal: Config.integer("KTRDR_OPERATIONS_MAX_KEPT").pipe(Config.withDefault(1000))
})

export const OperationsLive = Layer.scoped(Operations, Effect.flatMap(RetentionConfig, make))
export const operationsWith = (retention: Retention) => Layer.scoped(Operations, make(retention))
