/**
 * Runs one operation of the table on this runner: the body of the load workflow's activity. It holds the series'
 * cluster-wide lock, runs the DataManager (whose checkpoints persist each fetched segment as it lands), writes progress
 * to the row at most every quarter second, watches the row for a cancel request (from any runner) and writes the
 * terminal state with the outcome. Re-run after a crash (activities are at-least-once) it finds a finished row and
 * returns, or an unfinished one and loads again: what the first attempt stored is not fetched twice, because the
 * load plans from the store.
 */
import { SqlError } from "@effect/sql"
import { Clock, Effect, Exit, Fiber, Option, Ref, Schedule } from "effect"
import { failureOf } from "../domain/errorBody.ts"
import type { LoadError, LoadProgress, LoadResult } from "../domain/loadTypes.ts"
import { isoUtc, type OperationInfo } from "../domain/operation.ts"
import { cancelledInfo, completedInfo, failedInfo, withProgress } from "../domain/operationEnd.ts"
import { BarStore } from "../layers/BarStore.ts"
import { DataManager } from "../services/DataManager.ts"
import { SymbolCatalog } from "../services/SymbolCatalog.ts"
import { OperationsTable, type Outcome } from "./operationsTable.ts"
import { withSeriesLock } from "./seriesLock.ts"

const WATCH = Schedule.spaced("300 millis")
const PROGRESS_EVERY_MS = 250
/** The database may be restarting: table writes retry for about a minute before the activity gives up. */
const dbRetry = Schedule.exponential("200 millis").pipe(Schedule.either(Schedule.spaced("5 seconds")), Schedule.upTo("1 minute"))
const retryDb = <A, R>(self: Effect.Effect<A, SqlError.SqlError, R>) => Effect.retry(self, dbRetry)

export const executeOperation = (id: string) =>
  Effect.gen(function*() {
    const table = yield* OperationsTable
    const dm = yield* DataManager
    const store = yield* BarStore
    const catalog = yield* SymbolCatalog
    const row = yield* retryDb(table.get(id))
    if (row === null || row.outcome !== null) return
    const req = row.request
    const series = yield* catalog.parse(req.symbol).pipe(
      Effect.map((p) => `${p.seriesKey}_${req.timeframe}`),
      Effect.orElseSucceed(() => `${req.symbol.toUpperCase()}_${req.timeframe}`)
    )
    const storedSpan = catalog.parse(req.symbol).pipe(
      Effect.flatMap((p) => store.range(p.seriesKey, req.timeframe)),
      Effect.option,
      Effect.map(Option.getOrNull)
    )

    yield* withSeriesLock(series, Effect.gen(function*() {
      const started = row.startedMs ?? (yield* Clock.currentTimeMillis)
      const info = yield* Ref.make<OperationInfo>({ ...row.info, status: "running", started_at: isoUtc(started) })
      yield* retryDb(Effect.flatMap(Ref.get(info), (i) => table.setInfo(id, i, started)))
      const cachedBefore = (yield* storedSpan) !== null
      let last: LoadProgress | null = null
      let written = 0
      const report = (p: LoadProgress) =>
        Effect.gen(function*() {
          last = p
          const i = yield* Ref.updateAndGet(info, (x) => withProgress(x, p))
          const t = yield* Clock.currentTimeMillis
          if (t - written < PROGRESS_EVERY_MS && p.phase !== "done") return
          written = t
          // Progress is advisory: a write lost to a database hiccup is overwritten by the next one.
          yield* table.setInfo(id, i).pipe(Effect.ignore)
        })
      const load = yield* Effect.fork(dm.run(req, report))
      // A cancel asked on any runner lands here: the load is interrupted and checkpoints what it fetched.
      const watcher = yield* Effect.fork(Effect.repeat(
        table.cancelReason(id).pipe(
          Effect.orElseSucceed(() => null),
          Effect.flatMap((r) => r === null ? Effect.void : Fiber.interrupt(load).pipe(Effect.zipRight(Effect.fail(r))))
        ),
        WATCH
      ))
      const exit = yield* Fiber.await(load)
      yield* Fiber.interrupt(watcher)
      const now = yield* Clock.currentTimeMillis
      const cur = yield* Ref.get(info)
      const [end, outcome] = yield* endOf(exit, cur, last, started, now, cachedBefore, Effect.gen(function*() {
        return { reason: (yield* table.cancelReason(id).pipe(Effect.orElseSucceed(() => null))), span: yield* storedSpan }
      }))
      yield* retryDb(table.finish(id, end, outcome))
    }))
  }).pipe(
    // A database out for longer than the retries above: the workflow ends with the defect, the row stays unfinished.
    Effect.orDie,
    Effect.withSpan("cluster.executeOperation", { attributes: { operationId: id } })
  )

const endOf = (
  exit: Exit.Exit<LoadResult, LoadError>,
  cur: OperationInfo,
  last: LoadProgress | null,
  started: number,
  now: number,
  cachedBefore: boolean,
  cancelled: Effect.Effect<{ readonly reason: string | null; readonly span: { first: number; last: number } | null }>
): Effect.Effect<readonly [OperationInfo, Outcome]> =>
  Effect.gen(function*() {
    if (Exit.isSuccess(exit)) {
      return [completedInfo(cur, exit.value, cachedBefore, started, now), { _tag: "done", result: exit.value }] as const
    }
    const failure = Option.getOrUndefined(
      Exit.causeOption(exit).pipe(Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined)))
    )
    if (failure !== undefined) {
      return [failedInfo(cur, failureOf(failure), started, now), { _tag: "failed", error: failure }] as const
    }
    const { reason, span } = yield* cancelled
    const why = reason ?? "Load ended unexpectedly"
    return [cancelledInfo(cur, why, last, span, started, now), { _tag: "cancelled", reason: why }] as const
  })
