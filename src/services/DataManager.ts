/**
 * Loads bars for one series in one of KTRDR's modes: resolve the symbol, clamp to the head timestamp,
 * read the store, find missing expected bars with the trading calendar, plan IB-legal segments, fetch
 * them (several in flight, paced by PaceGate), checkpoint merged bars atomically as it goes, and save.
 * Cancellation is interruption: in-flight requests are cancelled at the gateway and what was fetched
 * is saved. One load per series at a time; different series load in parallel.
 */
import { Clock, Context, Effect, Either, FiberSet, Layer, Option, Ref, Stream, SynchronizedRef } from "effect"
import type { Bar } from "../domain/Bar.ts"
import { expectedBarTimes, hoursFor } from "../domain/BarSchedule.ts"
import { sortUniqueSeries } from "../domain/barMerge.ts"
import { firstTime, lastTime, seriesFromBars } from "../domain/barSeries.ts"
import { InvalidInput } from "../domain/dataErrors.ts"
import { defaultHistory } from "../domain/defaultHistory.ts"
import { checkQuality } from "../domain/QualityCheck.ts"
import { addQuality, emptyQuality } from "../domain/qualitySummary.ts"
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
import { makeAccounting, type LoadAccounting } from "./loadAccounting.ts"
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
}

export class DataManager extends Context.Tag("ktrdr/DataManager")<DataManager, DataManagerService>() {}

const fmtRange = (s: Segment) =>
  `${new Date(s.covers[0]).toISOString().slice(0, 16).replace("T", " ")} to ${
    new Date(s.covers[1]).toISOString().slice(0, 16).replace("T", " ")
  }`

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
      const tf = yield* Either.match(parseTimeframe(req.timeframe), { onLeft: Effect.fail, onRight: Effect.succeed })
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
        ? Effect.locally(remote, GatewayWait, waitPolicy(progress, () => last))
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

  const remoteLoad = (
    req: LoadRequest,
    inst: Instrument,
    tf: Timeframe,
    progress: Progress,
    started: number,
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
      const times = stored
      const missing: ReadonlyArray<Interval> = from < to
        ? yield* stepwise(
          missingIntervalsStepwise({
            stored: times,
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

      const whatToShow = cfg.whatToShow[inst.secType]
      const buffer = yield* Ref.make<Array<Bar>>([])
      const counts = yield* Ref.make({
        fetched: 0,
        empty: 0,
        failed: 0,
        bars: 0,
        newBars: 0,
        checkpoints: 0,
        sinceSave: 0,
        lastSave: now
      })
      const saveLock = yield* Effect.makeSemaphore(1)
      const quality = yield* Ref.make(emptyQuality)
      // Bid/ask/midpoint bars (forex, indices) carry no volume: zero volume is not a finding there.
      const volumeReported = whatToShow === "TRADES"
      const waitBefore = (yield* gate.stats).totalWaitMs

      /**
       * Merges what was fetched so far into the store, atomically; a no-op when nothing is pending.
       * Uninterruptible: a batch taken from the buffer must reach the disk.
       */
      const checkpoint = Effect.uninterruptible(
        saveLock.withPermits(1)(
          Effect.gen(function*() {
            const pending = yield* Ref.getAndSet(buffer, [])
            if (pending.length === 0) return
            // A store that fails for a while (a database restarting, a connection cut) is retried on the load's
            // schedule: the batch stays in hand, and each attempt is one transaction, so nothing is half-written.
            const out = yield* store.merge(key, tf.id, seriesFromBars(pending)).pipe(
              Effect.tapError((e) =>
                e._tag === "StorageError" ? Effect.logWarning(`checkpoint failed, retrying: ${e.message}`) : Effect.void
              ),
              Effect.retry({ schedule: loadRetry, while: (e) => e._tag === "StorageError" }),
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
      const fetchSegment = (s: Segment, i: number) =>
        Effect.gen(function*() {
          const request = ib.historicalBars({
            contract: inst.contract,
            end: s.endMs,
            duration: s.duration,
            barSize: s.barSize,
            whatToShow,
            useRTH,
            timeZone: inst.timeZone
          })
          const bars = yield* acct.track(request.pipe(Effect.retry({ schedule: loadRetry, while: retryWhile(acct) })))
            .pipe(
              Effect.map(Option.some),
              Effect.catchIf(
                (e) => e.category === "no-data",
                () => Effect.succeed(Option.none<ReadonlyArray<Bar>>())
              ),
              // Permission, unknown contract and invalid requests end the load; anything else leaves a hole.
              Effect.catchIf(
                (e) =>
                  e.category !== "permission" && e.category !== "no-security-definition" && e.category !== "validation",
                (e) => {
                  lastFailure = e
                  return Ref.update(counts, (c) => ({ ...c, failed: c.failed + 1 })).pipe(
                    Effect.as(Option.none<ReadonlyArray<Bar>>()),
                    Effect.tap(() =>
                      Effect.logWarning(`segment ${i + 1}/${segments.length} failed: [${e.label}] ${e.message}`)
                    )
                  )
                }
              )
            )
          // Keep exactly the bars the segment was planned for (a window may reach over stored bars).
          const wanted = new Set(expectedBarTimes(inst.calendarId, tf, hours, s.covers[0], s.covers[1]))
          const inRange = Option.map(bars, (bs) => bs.filter((b) => wanted.has(b.time)))
          if (Option.isSome(inRange)) {
            yield* Ref.update(buffer, (b) => (b.push(...inRange.value), b))
            if (inRange.value.length > 0) {
              yield* Ref.update(quality, (q) => addQuality(q, checkQuality(inRange.value, { volumeReported })))
            }
          }
          const c = yield* Ref.updateAndGet(counts, (c) =>
            Option.isSome(inRange)
              ? {
                ...c,
                fetched: c.fetched + 1,
                empty: c.empty + (inRange.value.length === 0 ? 1 : 0),
                bars: c.bars + inRange.value.length,
                sinceSave: c.sinceSave + 1
              }
              : { ...c, empty: c.empty + (lastFailure ? 0 : 1), fetched: c.fetched + (lastFailure ? 0 : 1) })
          const done = c.fetched + c.failed
          yield* progress({
            phase: "fetching_segments",
            step: `Fetching segment ${done}/${segments.length} from IB`,
            percentage: 10 + (86 * done) / Math.max(1, segments.length),
            segmentsCompleted: done,
            barsFetched: c.bars,
            currentSegment: `Segment ${i + 1}/${segments.length}: ${fmtRange(s)}`
          })
          const t = yield* Clock.currentTimeMillis
          if (c.sinceSave >= cfg.checkpointEverySegments || t - c.lastSave >= cfg.checkpointEveryMs) {
            yield* Ref.update(counts, (x) => ({ ...x, sinceSave: 0, lastSave: t }))
            yield* FiberSet.run(saves, checkpoint)
          }
        })

      // Whatever happens — success, failure, interruption — fetched bars reach the store.
      yield* Effect.forEach(segments, fetchSegment, { concurrency: cfg.segmentsInFlight, discard: true }).pipe(
        Effect.ensuring(checkpoint.pipe(Effect.ignoreLogged))
      )
      yield* progress({ phase: "saving", step: "Saving dataset", percentage: 98 })
      yield* FiberSet.awaitEmpty(saves)
      yield* checkpoint
      const c = yield* Ref.get(counts)
      if (segments.length > 0 && c.failed === segments.length && lastFailure) return yield* Effect.fail(lastFailure)

      const after = yield* storedTimes(key, tf)
      const left = from < to
        ? yield* stepwise(
          missingBarsStepwise({
            stored: after,
            calendarId: inst.calendarId,
            timeframe: tf,
            hours,
            from,
            to,
            now,
            headMs: head
          })
        )
        : 0
      const end = yield* Clock.currentTimeMillis
      const n = yield* acct.counts
      const waitAfter = (yield* gate.stats).totalWaitMs
      yield* progress({
        phase: "done",
        step: "Data loading completed",
        percentage: 100,
        segmentsCompleted: segments.length
      })
      return {
        symbol: inst.symbol,
        seriesKey: key,
        timeframe: tf.id,
        mode: req.mode,
        range: { from, to },
        defaultHistory: defaulted ? firstHistory.label : null,
        barsFetched: c.bars,
        newBars: c.newBars,
        segmentsPlanned: segments.length,
        segmentsFetched: c.fetched,
        segmentsEmpty: c.empty,
        segmentsFailed: c.failed,
        ibRequests: n.historical,
        lookupRequests: n.lookups,
        requestsRetried: n.retried,
        retryReasons: n.retryReasons,
        pacingWaitMs: Math.round(waitAfter - waitBefore),
        gapsLeft: left,
        totalBars: after.length,
        firstBar: after.length > 0 ? after[0]! : null,
        lastBar: after.length > 0 ? after[after.length - 1]! : null,
        checkpoints: c.checkpoints,
        durationMs: end - started,
        quality: yield* Ref.get(quality)
      } satisfies LoadResult
    })

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

  return DataManager.of({ load: (req) => run(req, () => Effect.void), loadWithProgress, run })
})

export const DataManagerLive = Layer.effect(DataManager, make)
