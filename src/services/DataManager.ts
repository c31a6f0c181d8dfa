/**
 * Loads bars for one series in one of KTRDR's modes: resolve the symbol, clamp to the head timestamp,
 * read the store, find missing expected bars with the trading calendar, plan IB-legal segments, fetch
 * them (several in flight, paced by PaceGate), checkpoint merged bars atomically as it goes, and save.
 * Cancellation is interruption: in-flight requests are cancelled at the gateway and what was fetched
 * is saved. One load per series at a time; different series load in parallel.
 */
import { Clock, Context, Effect, Either, FiberSet, Layer, Ref, Stream, SynchronizedRef } from "effect"
import type { Bar } from "../domain/Bar.ts"
import { expectedBarTimes, hoursFor } from "../domain/BarSchedule.ts"
import { sortUniqueSeries } from "../domain/barMerge.ts"
import { firstTime, lastTime, seriesFromBars } from "../domain/barSeries.ts"
import { InvalidInput } from "../domain/dataErrors.ts"
import { defaultHistory } from "../domain/defaultHistory.ts"
import type { IbError } from "../domain/errors.ts"
import type { Interval } from "../domain/GapAnalysis.ts"
import { missingBarsStepwise, missingIntervalsStepwise, STEP_WINDOW_MS } from "../domain/gapSteps.ts"
import type { Instrument } from "../domain/Instrument.ts"
import { planSegmentsStepwise, type Segment } from "../domain/SegmentPlanner.ts"
import { parseTimeframe, type Timeframe } from "../domain/Timeframe.ts"
import { BarStore } from "../layers/BarStore.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { checkFreeSpace, checkWritable, CSV_ROW_BYTES } from "../layers/diskCheck.ts"
import { GatewayWait } from "../layers/gatewayWait.ts"
import { IbClient } from "../layers/IbClient.ts"
import { stepwise } from "../layers/eventLoop.ts"
import { PaceGate } from "../layers/PaceGate.ts"
import type { LoadError, LoadProgress, LoadRequest, LoadResult } from "../domain/loadTypes.ts"
import { type LoadCounts, makeAccounting, type LoadAccounting } from "./loadAccounting.ts"
import {
  countSegment,
  fetchProgress,
  type LoadPlan,
  noSegments,
  type SegmentFetch,
  type SegmentTotals
} from "../domain/loadSteps.ts"
import { loadRetry, retryWhile, waitPolicy } from "./loadGateway.ts"
import { SymbolCatalog } from "./SymbolCatalog.ts"

type Progress = (p: Partial<LoadProgress> & Pick<LoadProgress, "phase" | "step">) => Effect.Effect<void>

export interface DataManagerService {
  readonly load: (req: LoadRequest) => Effect.Effect<LoadResult, LoadError>
  /** The same load, emitting monotonic progress; the last element is phase "done". */
  readonly loadWithProgress: (req: LoadRequest) => Stream.Stream<LoadProgress, LoadError>
  /** Core with a progress callback: for the operations registry. */
  readonly run: (
    req: LoadRequest,
    report: (p: LoadProgress) => Effect.Effect<void>
  ) => Effect.Effect<LoadResult, LoadError>
  /** A remote load's steps one at a time, for an executor that makes each durable (cluster workflows). */
  readonly steps: LoadSteps
}

/**
 * The steps of a remote load. `plan` validates, resolves the symbol and plans (progress up to "planning"); `segment`
 * fetches segment i of the plan and merges its bars into the store at once; `finish` reads what is stored and gives
 * the result. The caller holds the series' lock across them and adds up the totals and counts.
 */
export interface LoadSteps {
  readonly plan: (
    req: LoadRequest,
    report: (p: LoadProgress) => Effect.Effect<void>
  ) => Effect.Effect<{ readonly plan: LoadPlan; readonly counts: LoadCounts }, LoadError>
  readonly segment: (plan: LoadPlan, i: number) => Effect.Effect<
    { readonly totals: SegmentTotals; readonly counts: LoadCounts; readonly failure: IbError | null },
    LoadError
  >
  readonly finish: (
    plan: LoadPlan,
    totals: SegmentTotals,
    counts: LoadCounts,
    started: number
  ) => Effect.Effect<LoadResult, LoadError>
}

export class DataManager extends Context.Tag("ktrdr/DataManager")<DataManager, DataManagerService>() {}

/** Monotonic progress over a report callback: each call says what changed, the percentage never goes back. */
const progressReporter = (report: (p: LoadProgress) => Effect.Effect<void>) => {
  let last: LoadProgress = {
    phase: "validating_symbol",
    percentage: 0,
    step: "Validating symbol",
    segmentsTotal: 0,
    segmentsCompleted: 0,
    barsFetched: 0
  }
  const progress = (p: Partial<LoadProgress> & Pick<LoadProgress, "phase" | "step">) => {
    last = { ...last, ...p, percentage: Math.max(last.percentage, p.percentage ?? last.percentage) }
    return report(last)
  }
  return Object.assign(progress, { current: () => last })
}

/** Range rules that need no gateway: start before end, and a start that is not in the future. */
const validateRange = (req: LoadRequest) =>
  Effect.gen(function*() {
    if (req.start !== undefined && req.end !== undefined && req.start >= req.end) {
      return yield* new InvalidInput({
        field: "start",
        value: new Date(req.start).toISOString(),
        message: "start must be before end"
      })
    }
    // A range that starts in the future has nothing to load: said before anything is asked of IB.
    const askedAt = yield* Clock.currentTimeMillis
    if (req.start !== undefined && req.start >= askedAt) {
      return yield* new InvalidInput({
        field: "start",
        value: new Date(req.start).toISOString(),
        message: `start ${new Date(req.start).toISOString()} is in the future: there is nothing to load yet`
      })
    }
  })

const timeframeOf = (plan: LoadPlan) =>
  Either.match(parseTimeframe(plan.timeframe), { onLeft: Effect.die, onRight: Effect.succeed })

export const make = Effect.gen(function*() {
  const catalog = yield* SymbolCatalog
  const store = yield* BarStore
  const ib = yield* IbClient
  const gate = yield* PaceGate
  const cfg = yield* DataConfig
  /** One semaphore per series: a second load of the same series waits for the first. */
  const locks = yield* SynchronizedRef.make(new Map<string, Effect.Semaphore>())
  const lockFor = (key: string) =>
    SynchronizedRef.modifyEffect(locks, (m) => {
      const hit = m.get(key)
      if (hit) return Effect.succeed([hit, m] as const)
      return Effect.map(Effect.makeSemaphore(1), (s) => [s, new Map(m).set(key, s)] as const)
    })

  /** The stored time column, ascending and unique (empty when nothing is stored): all planning needs of the bars. */
  const storedTimes = (key: string, tf: Timeframe) =>
    store.read(key, tf.id, {}).pipe(
      Effect.retry({ schedule: loadRetry, while: (e) => e._tag === "StorageError" }), // as checkpoints are
      Effect.map((s) => (s.outOfOrder === 0 && s.duplicates === 0 ? s.time : sortUniqueSeries(s).time)),
      Effect.catchTag("NotFound", () => Effect.succeed(new Float64Array(0)))
    )

  const run = (
    req: LoadRequest,
    report: (p: LoadProgress) => Effect.Effect<void>
  ): Effect.Effect<LoadResult, LoadError> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const progress = progressReporter(report)
      const tf = yield* Either.match(parseTimeframe(req.timeframe), { onLeft: Effect.fail, onRight: Effect.succeed })
      yield* validateRange(req)
      yield* progress({ phase: "validating_symbol", step: "Validating symbol", percentage: 2 })
      if (req.mode === "local") {
        const parsed = yield* catalog.parse(req.symbol)
        return yield* localLoad(req, parsed, tf, progress, started)
      }
      // Before the first gateway request: a load that cannot save must not download.
      yield* checkWritable(cfg.dataDir)
      const acct = yield* makeAccounting
      /** One logical request with its retries, counted. */
      const early = <A, E extends LoadError>(self: Effect.Effect<A, E>) =>
        acct.track(self.pipe(Effect.retry({ schedule: loadRetry, while: retryWhile(acct) })))
      const remote = Effect.gen(function*() {
        const inst = yield* early(catalog.resolve(req.symbol))
        const lock = yield* lockFor(`${inst.seriesKey}_${tf.id}`)
        return yield* lock.withPermits(1)(Effect.scoped(remoteLoad(req, inst, tf, progress, started, acct)))
      })
      return yield* req.waitForGateway === true
        ? Effect.locally(remote, GatewayWait, waitPolicy(progress, progress.current))
        : remote
    })

  /** Local mode needs no gateway: the symbol is only validated and mapped to its series key. */
  const localLoad = (
    req: LoadRequest,
    inst: { readonly seriesKey: string; readonly symbol: string },
    tf: Timeframe,
    progress: Progress,
    started: number
  ) =>
    Effect.gen(function*() {
      yield* progress({ phase: "loading_local_data", step: "Loading local data", percentage: 20 })
      const s = yield* store.read(inst.seriesKey, tf.id, {
        ...(req.start === undefined ? {} : { start: req.start }),
        ...(req.end === undefined ? {} : { end: req.end })
      })
      yield* progress({ phase: "done", step: "Data loading completed", percentage: 100 })
      const now = yield* Clock.currentTimeMillis
      return {
        symbol: inst.symbol,
        seriesKey: inst.seriesKey,
        timeframe: tf.id,
        mode: req.mode,
        range: null,
        barsFetched: 0,
        newBars: 0,
        segmentsPlanned: 0,
        segmentsFetched: 0,
        segmentsEmpty: 0,
        segmentsFailed: 0,
        ibRequests: 0,
        pacingWaitMs: 0,
        gapsLeft: 0,
        totalBars: s.length,
        firstBar: firstTime(s),
        lastBar: lastTime(s),
        lookupRequests: 0,
        requestsRetried: 0,
        retryReasons: {},
        checkpoints: 0,
        durationMs: now - started,
        quality: null
      } satisfies LoadResult
    })

  /**
   * Everything a load decides before it asks for bars: the head timestamp, what is stored, the missing intervals and
   * the segments. Fails with InvalidInput when the range lies before IB's first bar.
   */
  const planLoad = (
    req: LoadRequest,
    inst: Instrument,
    tf: Timeframe,
    progress: Progress,
    acct: LoadAccounting
  ) =>
    Effect.gen(function*() {
      const key = inst.seriesKey
      const useRTH = cfg.useRTH
      const hours = hoursFor(useRTH)
      yield* progress({ phase: "checking_head_timestamp", step: "Checking head timestamp", percentage: 4 })
      const head = yield* acct.track(
        catalog.headTimestamp(inst, tf.id).pipe(Effect.retry({ schedule: loadRetry, while: retryWhile(acct) }))
      )
      yield* progress({ phase: "loading_local_data", step: "Loading existing local data", percentage: 6 })
      const stored = yield* storedTimes(key, tf)
      const now = yield* Clock.currentTimeMillis
      const firstStored = stored[0]
      const lastStored = stored.at(-1)
      const to0 = Math.min(req.end ?? now, now)
      // The whole range lies before IB's first bar: nothing exists to fetch, and the user should know why.
      if (to0 <= head) {
        return yield* new InvalidInput({
          field: req.end === undefined ? "start" : "end",
          value: new Date(to0).toISOString(),
          message: `${key} ${tf.id} history starts at ${new Date(head).toISOString()} (IB's head timestamp): ` +
            `the range ending ${new Date(to0).toISOString()} holds no data`
        })
      }
      // A first tail load of a never-loaded series: the timeframe's default history (defaultHistory.ts).
      const firstHistory = defaultHistory(tf)
      const defaulted = req.mode === "tail" && req.start === undefined && lastStored === undefined
      const from0 = req.mode === "tail"
        ? req.start ?? lastStored ?? (firstHistory.ms === "all" ? head : now - firstHistory.ms)
        : req.start ?? head
      const to = req.mode === "backfill" && firstStored !== undefined && req.end === undefined
        ? Math.min(firstStored, to0)
        : to0
      const from = Math.max(from0, head)

      yield* progress({ phase: "analyzing_gaps", step: "Analyzing data gaps with trading calendar", percentage: 8 })
      const missing: ReadonlyArray<Interval> = from < to
        ? yield* stepwise(
          missingIntervalsStepwise({
            stored,
            calendarId: inst.calendarId,
            timeframe: tf,
            hours,
            from,
            to,
            now,
            headMs: head
          })
        )
        : []
      const segments = yield* stepwise(
        planSegmentsStepwise(
          { calendarId: inst.calendarId, timeframe: tf, useRTH, missing, headTimestamp: head, now },
          STEP_WINDOW_MS
        )
      )
      yield* progress({
        phase: "planning_segments",
        step: `Planning ${segments.length} segments`,
        percentage: 10,
        segmentsTotal: segments.length
      })
      // Room for the merged file (written whole, beside the old one until the rename), before any bar is asked.
      const planned = segments.reduce((n, s) => n + s.bars, 0)
      if (planned > 0) yield* checkFreeSpace(cfg.dataDir, (planned + stored.length) * CSV_ROW_BYTES, cfg.minFreeBytes)
      return {
        request: req,
        instrument: inst,
        timeframe: tf.id,
        from,
        to,
        now,
        head,
        defaultHistory: defaulted ? firstHistory.label : null,
        useRTH,
        whatToShow: cfg.whatToShow[inst.secType],
        segments,
        storedBars: stored.length
      } satisfies LoadPlan
    })

  /**
   * One segment from the gateway, with its retries: the bars it was planned for, "no data", or a failure that leaves
   * a hole. Permission, unknown contract and invalid requests fail: they end the load.
   */
  const fetchSegment = (plan: LoadPlan, s: Segment, acct: LoadAccounting): Effect.Effect<SegmentFetch, LoadError> =>
    Effect.gen(function*() {
      const inst = plan.instrument
      const tf = yield* timeframeOf(plan)
      const request = ib.historicalBars({
        contract: inst.contract,
        end: s.endMs,
        duration: s.duration,
        barSize: s.barSize,
        whatToShow: plan.whatToShow,
        useRTH: plan.useRTH,
        timeZone: inst.timeZone
      })
      const got = yield* acct.track(request.pipe(Effect.retry({ schedule: loadRetry, while: retryWhile(acct) }))).pipe(
        Effect.map((bars): SegmentFetch => ({ _tag: "bars", bars })),
        Effect.catchIf((e) => e.category === "no-data", () => Effect.succeed<SegmentFetch>({ _tag: "noData" })),
        Effect.catchIf(
          (e) => e.category !== "permission" && e.category !== "no-security-definition" && e.category !== "validation",
          (e) => Effect.succeed<SegmentFetch>({ _tag: "failed", error: e })
        )
      )
      if (got._tag !== "bars") return got
      // Keep exactly the bars the segment was planned for (a window may reach over stored bars).
      const wanted = new Set(expectedBarTimes(inst.calendarId, tf, hoursFor(plan.useRTH), s.covers[0], s.covers[1]))
      return { _tag: "bars", bars: got.bars.filter((b) => wanted.has(b.time)) } satisfies SegmentFetch
    })

  /** The result of a load once its segments are done: what is stored now, what is still missing, and the counts. */
  const summarise = (
    plan: LoadPlan,
    done: SegmentTotals,
    n: LoadCounts,
    pacingWaitMs: number,
    started: number
  ) =>
    Effect.gen(function*() {
      const inst = plan.instrument
      const tf = yield* timeframeOf(plan)
      const after = yield* storedTimes(inst.seriesKey, tf)
      const left = plan.from < plan.to
        ? yield* stepwise(
          missingBarsStepwise({
            stored: after,
            calendarId: inst.calendarId,
            timeframe: tf,
            hours: hoursFor(plan.useRTH),
            from: plan.from,
            to: plan.to,
            now: plan.now,
            headMs: plan.head
          })
        )
        : 0
      const end = yield* Clock.currentTimeMillis
      return {
        symbol: inst.symbol,
        seriesKey: inst.seriesKey,
        timeframe: tf.id,
        mode: plan.request.mode,
        range: { from: plan.from, to: plan.to },
        defaultHistory: plan.defaultHistory,
        barsFetched: done.bars,
        newBars: done.newBars,
        segmentsPlanned: plan.segments.length,
        segmentsFetched: done.fetched,
        segmentsEmpty: done.empty,
        segmentsFailed: done.failed,
        ibRequests: n.historical,
        lookupRequests: n.lookups,
        requestsRetried: n.retried,
        retryReasons: n.retryReasons,
        pacingWaitMs: Math.round(pacingWaitMs),
        gapsLeft: left,
        totalBars: after.length,
        firstBar: after.length > 0 ? after[0]! : null,
        lastBar: after.length > 0 ? after[after.length - 1]! : null,
        checkpoints: done.checkpoints,
        durationMs: end - started,
        quality: done.quality
      } satisfies LoadResult
    })

  /** A load in one process: segments fetched several at a time, checkpointed in batches beside the fetches. */
  const remoteLoad = (
    req: LoadRequest,
    inst: Instrument,
    tf: Timeframe,
    progress: Progress,
    started: number,
    acct: LoadAccounting
  ) =>
    Effect.gen(function*() {
      const plan = yield* planLoad(req, inst, tf, progress, acct)
      const { segments } = plan
      const key = inst.seriesKey
      const buffer = yield* Ref.make<Array<Bar>>([])
      const counts = yield* Ref.make({ ...noSegments, sinceSave: 0, lastSave: plan.now })
      const saveLock = yield* Effect.makeSemaphore(1)
      const waitBefore = (yield* gate.stats).totalWaitMs
      // Bid/ask/midpoint bars (forex, indices) carry no volume: zero volume is not a finding there.
      const volumeReported = plan.whatToShow === "TRADES"

      /**
       * Merges what was fetched so far into the store, atomically; a no-op when nothing is pending.
       * Uninterruptible: a batch taken from the buffer must reach the disk.
       */
      const checkpoint = Effect.uninterruptible(
        saveLock.withPermits(1)(
          Effect.gen(function*() {
            const pending = yield* Ref.getAndSet(buffer, [])
            if (pending.length === 0) return
            const out = yield* mergeRetrying(key, tf.id, pending).pipe(
              Effect.onError(() => Ref.update(buffer, (b) => [...pending, ...b]))
            )
            const t = yield* Clock.currentTimeMillis
            yield* Ref.update(
              counts,
              (c) => ({ ...c, newBars: c.newBars + out.added, checkpoints: c.checkpoints + 1, lastSave: t })
            )
          })
        )
      )
      // Periodic checkpoints run beside the fetches, so a slow save never holds a segment slot.
      const saves = yield* FiberSet.make<void, LoadError>()

      let lastFailure: IbError | undefined
      const fetchOne = (s: Segment, i: number) =>
        Effect.gen(function*() {
          const got = yield* fetchSegment(plan, s, acct)
          if (got._tag === "failed") {
            lastFailure = got.error
            yield* Effect.logWarning(
              `segment ${i + 1}/${segments.length} failed: [${got.error.label}] ${got.error.message}`
            )
          }
          if (got._tag === "bars") {
            yield* Ref.update(buffer, (b) => (b.push(...got.bars), b))
          }
          const c = yield* Ref.updateAndGet(counts, (c) => ({
            ...c,
            ...countSegment(c, got, volumeReported),
            sinceSave: c.sinceSave + (got._tag === "bars" ? 1 : 0)
          }))
          const done = c.fetched + c.failed
          yield* progress(fetchProgress(done, segments, i, c.bars))
          const t = yield* Clock.currentTimeMillis
          if (c.sinceSave >= cfg.checkpointEverySegments || t - c.lastSave >= cfg.checkpointEveryMs) {
            yield* Ref.update(counts, (x) => ({ ...x, sinceSave: 0, lastSave: t }))
            yield* FiberSet.run(saves, checkpoint)
          }
        })

      // Whatever happens — success, failure, interruption — fetched bars reach the store.
      yield* Effect.forEach(segments, fetchOne, { concurrency: cfg.segmentsInFlight, discard: true }).pipe(
        Effect.ensuring(checkpoint.pipe(Effect.ignoreLogged))
      )
      yield* progress({ phase: "saving", step: "Saving dataset", percentage: 98 })
      yield* FiberSet.awaitEmpty(saves)
      yield* checkpoint
      const c = yield* Ref.get(counts)
      if (segments.length > 0 && c.failed === segments.length && lastFailure) return yield* Effect.fail(lastFailure)
      const waitAfter = (yield* gate.stats).totalWaitMs
      const result = yield* summarise(plan, c, yield* acct.counts, waitAfter - waitBefore, started)
      yield* progress({
        phase: "done",
        step: "Data loading completed",
        percentage: 100,
        segmentsCompleted: segments.length
      })
      return result
    })

  /** A store merge retried on the load's schedule: each attempt is one transaction, so nothing is half-written. */
  const mergeRetrying = (key: string, tf: string, bars: ReadonlyArray<Bar>) =>
    store.merge(key, tf, seriesFromBars(bars)).pipe(
      Effect.tapError((e) =>
        e._tag === "StorageError" ? Effect.logWarning(`checkpoint failed, retrying: ${e.message}`) : Effect.void
      ),
      Effect.retry({ schedule: loadRetry, while: (e) => e._tag === "StorageError" })
    )

  /**
   * The steps of a remote load one at a time, for an executor that makes each durable (a cluster workflow): the plan,
   * then each segment fetched and stored at once, then the result.
   */
  const steps: LoadSteps = {
    plan: (req, report) =>
      Effect.gen(function*() {
        const progress = progressReporter(report)
        const tf = yield* Either.match(parseTimeframe(req.timeframe), { onLeft: Effect.fail, onRight: Effect.succeed })
        yield* validateRange(req)
        yield* progress({ phase: "validating_symbol", step: "Validating symbol", percentage: 2 })
        yield* checkWritable(cfg.dataDir)
        const acct = yield* makeAccounting
        const early = <A, E extends LoadError>(self: Effect.Effect<A, E>) =>
          acct.track(self.pipe(Effect.retry({ schedule: loadRetry, while: retryWhile(acct) })))
        const inst = yield* early(catalog.resolve(req.symbol))
        const plan = yield* planLoad(req, inst, tf, progress, acct)
        return { plan, counts: yield* acct.counts }
      }),
    segment: (plan, i) =>
      Effect.gen(function*() {
        const s = plan.segments[i]
        if (s === undefined) return yield* Effect.die(new RangeError(`segment ${i} of ${plan.segments.length}`))
        const acct = yield* makeAccounting
        const got = yield* fetchSegment(plan, s, acct)
        const added = got._tag === "bars" && got.bars.length > 0
          ? (yield* mergeRetrying(plan.instrument.seriesKey, plan.timeframe, got.bars)).added
          : 0
        const volumeReported = plan.whatToShow === "TRADES"
        return {
          totals: { ...countSegment(noSegments, got, volumeReported), newBars: added, checkpoints: added > 0 ? 1 : 0 },
          counts: yield* acct.counts,
          failure: got._tag === "failed" ? got.error : null
        }
      }),
    finish: (plan, done, counts, started) => summarise(plan, done, counts, 0, started)
  }

  const loadWithProgress = (req: LoadRequest): Stream.Stream<LoadProgress, LoadError> =>
    Stream.asyncScoped<LoadProgress, LoadError>((emit) =>
      run(req, (p) => Effect.promise(() => emit.single(p))).pipe(
        Effect.matchEffect({
          onFailure: (e) => Effect.promise(() => emit.fail(e)),
          onSuccess: () => Effect.promise(() => emit.end())
        }),
        Effect.forkScoped
      )
    )

  return DataManager.of({ load: (req) => run(req, () => Effect.void), loadWithProgress, run, steps })
})

export const DataManagerLive = Layer.effect(DataManager, make)
