/**
 * A load is a durable workflow keyed by its operation id: a `plan` activity (symbol, head timestamp, stored bars,
 * gaps, segments), one activity per segment (fetched through the gateway's owner and merged into the store at once),
 * and a `finish` activity (what is stored now, what is missing, the counts). Each activity's result is kept by the
 * cluster, so a workflow resumed on another runner after its runner died replays the finished steps from storage:
 * the same plan, and no finished segment fetched again. Only a segment in flight at the crash runs again.
 *
 * The operation's row is the user's view: progress, the terminal state and the outcome are written there. Cancels go
 * through the row, not through the engine: an engine interrupt only lands at a suspension point (reference §6), and
 * a load has none, so each segment watches the row and stops itself.
 */
import { Activity, Workflow } from "@effect/workflow"
import { Cause, Clock, Effect, Exit, Fiber, Option, Schedule, Schema } from "effect"
import { failureOf } from "../domain/errorBody.ts"
import { IbError } from "../domain/errors.ts"
import { addTotals, fetchProgress, type LoadPlan, noSegments, type SegmentTotals } from "../domain/loadSteps.ts"
import type { LoadError, LoadProgress, LoadResult } from "../domain/loadTypes.ts"
import { isoUtc, type OperationInfo } from "../domain/operation.ts"
import { cancelledInfo, completedInfo, failedInfo, withProgress } from "../domain/operationEnd.ts"
import { BarStore } from "../layers/BarStore.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { DataManager } from "../services/DataManager.ts"
import { addCounts, type LoadCounts } from "../services/loadAccounting.ts"
import { SymbolCatalog } from "../services/SymbolCatalog.ts"
import { LoadErrorSchema, OperationsTable, type OperationRow, type Outcome } from "./operationsTable.ts"
import { withSeriesLock } from "./seriesLock.ts"

export class Cancelled extends Schema.TaggedError<Cancelled>()("Cancelled", { reason: Schema.String }) {}

export const LoadWorkflow = Workflow.make({
  name: "ktrdr/DataLoad",
  payload: { operationId: Schema.String },
  idempotencyKey: ({ operationId }) => operationId
})

/** Step results are our own plain data, kept by the cluster as they are (msgpack/JSON round-trip)... */
const Plain = Schema.Unknown
/** ...except a segment's failure, a class that must come back as one (its label, its category). */
const SegmentStepSchema = Schema.Struct({ totals: Plain, counts: Plain, failure: Schema.NullOr(IbError) })
const StepError = Schema.Union(LoadErrorSchema, Cancelled)

const PROGRESS_EVERY_MS = 250
const CANCEL_POLL = Schedule.spaced("300 millis")
/** The database may be restarting: table writes retry for about a minute. */
const dbRetry = Schedule.exponential("200 millis").pipe(
  Schedule.either(Schedule.spaced("5 seconds")),
  Schedule.upTo("1 minute")
)

interface PlanStep {
  readonly plan: LoadPlan
  readonly counts: LoadCounts
}
interface SegmentStep {
  readonly totals: SegmentTotals
  readonly counts: LoadCounts
  readonly failure: IbError | null
}

/** Runs `self` unless the operation's row asks for a cancel, which interrupts it (its merge is one transaction). */
const unlessCancelled = <A, E, R>(id: string, self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const table = yield* OperationsTable
    const asked = table.cancelReason(id).pipe(Effect.orElseSucceed(() => null))
    const before = yield* asked
    if (before !== null) return yield* new Cancelled({ reason: before })
    const work = yield* Effect.fork(self)
    const watch = yield* Effect.fork(
      asked.pipe(
        Effect.repeat({ schedule: CANCEL_POLL, until: (r) => r !== null }),
        Effect.flatMap((r) => Fiber.interrupt(work).pipe(Effect.as(r ?? "Operation cancelled by user")))
      )
    )
    const exit = yield* Fiber.await(work)
    yield* Fiber.interrupt(watch)
    if (Exit.isSuccess(exit)) return exit.value
    if (Exit.isInterrupted(exit)) {
      const reason = yield* asked
      if (reason !== null) return yield* new Cancelled({ reason })
    }
    return yield* exit
  })

const execute = (id: string) =>
  Effect.gen(function*() {
    const table = yield* OperationsTable
    const row = yield* Effect.retry(table.get(id), dbRetry)
    if (row === null || row.outcome !== null) return
    const catalog = yield* SymbolCatalog
    const series = yield* catalog.parse(row.request.symbol).pipe(
      Effect.map((p) => `${p.seriesKey}_${row.request.timeframe}`),
      Effect.orElseSucceed(() => `${row.request.symbol.toUpperCase()}_${row.request.timeframe}`)
    )
    // One load per series cluster-wide; the lock dies with this runner, and the resumed workflow takes it again.
    yield* withSeriesLock(series, runLoad(row))
  }).pipe(Effect.orDie)

const runLoad = (row: OperationRow) =>
  Effect.gen(function*() {
    const id = row.id
    const table = yield* OperationsTable
    const dm = yield* DataManager
    const cfg = yield* DataConfig
    const store = yield* BarStore
    const catalog = yield* SymbolCatalog
    const started = row.startedMs ?? (yield* Clock.currentTimeMillis)
    let info: OperationInfo = { ...row.info, status: "running", started_at: isoUtc(started) }
    yield* Effect.logInfo(`load ${id} (${row.request.symbol} ${row.request.timeframe}) runs here`)
    yield* Effect.retry(table.setInfo(id, info, started), dbRetry)
    const storedSpan = catalog.parse(row.request.symbol).pipe(
      Effect.flatMap((p) => store.range(p.seriesKey, row.request.timeframe)),
      Effect.option,
      Effect.map(Option.getOrNull)
    )
    let last: LoadProgress | null = null
    let written = 0
    let cachedBefore = false
    /** Progress is advisory: a write lost to a database hiccup is overwritten by the next one. */
    const report = (p: LoadProgress) =>
      Effect.gen(function*() {
        last = p
        info = withProgress(info, p)
        const t = yield* Clock.currentTimeMillis
        if (t - written < PROGRESS_EVERY_MS && p.phase !== "done") return
        written = t
        yield* table.setInfo(id, info).pipe(Effect.ignore)
      })

    const outcome = yield* Effect.gen(function*() {
      const planned = (yield* Activity.make({
        name: "plan",
        success: Plain,
        error: StepError,
        execute: unlessCancelled(id, dm.steps.plan(row.request, report))
      })) as PlanStep
      const { plan } = planned
      cachedBefore = plan.storedBars > 0
      let totals = noSegments
      let counts = planned.counts
      let lastFailure: IbError | null = null
      const segmentsTotal = plan.segments.length
      yield* report(
        progressAt(last, { phase: "planning_segments", step: `Planning ${segmentsTotal} segments`, segmentsTotal })
      )
      yield* Effect.forEach(
        plan.segments,
        (_, i) =>
          Effect.gen(function*() {
            const step = (yield* Activity.make({
              name: `segment-${i}`,
              success: SegmentStepSchema,
              error: StepError,
              execute: unlessCancelled(id, dm.steps.segment(plan, i))
            })) as SegmentStep
            totals = addTotals(totals, step.totals)
            counts = addCounts(counts, step.counts)
            if (step.failure !== null) lastFailure = step.failure
            yield* report(
              progressAt(last, fetchProgress(totals.fetched + totals.failed, plan.segments, i, totals.bars))
            )
          }),
        { concurrency: cfg.segmentsInFlight, discard: true }
      )
      yield* report(progressAt(last, { phase: "saving", step: "Saving dataset", percentage: 98 }))
      if (segmentsTotal > 0 && totals.failed === segmentsTotal && lastFailure !== null) {
        return yield* Effect.fail<LoadError>(lastFailure)
      }
      const result = (yield* Activity.make({
        name: "finish",
        success: Plain,
        error: StepError,
        execute: dm.steps.finish(plan, totals, counts, started)
      })) as LoadResult
      yield* report(progressAt(last, { phase: "done", step: "Data loading completed", percentage: 100 }))
      return { result, cachedBefore }
    }).pipe(Effect.exit)

    const now = yield* Clock.currentTimeMillis
    const [end, stored] = yield* endOf(outcome, info, last, started, now, storedSpan)
    yield* Effect.retry(table.finish(id, end, stored), dbRetry)
  })

/** The next progress report: what changed over the last one (percentages never go back). */
const progressAt = (
  last: LoadProgress | null,
  p: Partial<LoadProgress> & Pick<LoadProgress, "phase" | "step">
): LoadProgress => {
  const base: LoadProgress = last ?? {
    phase: p.phase,
    percentage: 0,
    step: p.step,
    segmentsTotal: 0,
    segmentsCompleted: 0,
    barsFetched: 0
  }
  return { ...base, ...p, percentage: Math.max(base.percentage, p.percentage ?? base.percentage) }
}

const endOf = (
  exit: Exit.Exit<{ readonly result: LoadResult; readonly cachedBefore: boolean }, LoadError | Cancelled>,
  cur: OperationInfo,
  last: LoadProgress | null,
  started: number,
  now: number,
  storedSpan: Effect.Effect<{ readonly first: number; readonly last: number } | null>
): Effect.Effect<readonly [OperationInfo, Outcome]> =>
  Effect.gen(function*() {
    if (Exit.isSuccess(exit)) {
      const { result, cachedBefore } = exit.value
      return [completedInfo(cur, result, cachedBefore, started, now), { _tag: "done", result }] as const
    }
    // Segments run side by side: the first typed failure, wherever it sits among the others' interruptions.
    const failure = Option.getOrUndefined(Option.flatMap(Exit.causeOption(exit), Cause.failureOption))
    if (failure !== undefined && failure._tag !== "Cancelled") {
      return [failedInfo(cur, failureOf(failure), started, now), { _tag: "failed", error: failure }] as const
    }
    const why = failure?._tag === "Cancelled" ? failure.reason : "Load ended unexpectedly"
    const span = yield* storedSpan
    return [cancelledInfo(cur, why, last, span, started, now), { _tag: "cancelled", reason: why }] as const
  })

export const LoadWorkflowLive = LoadWorkflow.toLayer(({ operationId }) => execute(operationId))
