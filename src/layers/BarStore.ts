/**
 * BarStore: KTRDR's flat CSV store `<dataDir>/<SERIES>_<TF>.csv`, read and written by this process alone.
 *
 * Fixes KTRDR's storage defects (reference §8.2): errors are typed values (no stale LAST_KNOWN_GOOD frame, so a failed
 * read can never turn into "no data" and overwrite history); a file that does not parse is never overwritten; writes
 * are atomic; read-modify-write merges of one series are serialised by a per-series lock; names are validated before
 * any path exists; the listing splits on the LAST `_`; the range peek answers in UTC.
 *
 * File I/O uses node:fs/promises directly (see barFiles.ts): the store needs exclusive temp creation, reads into a
 * caller-owned buffer at an offset (streamed parse without a second copy) and a directory fsync, and keeping the
 * layer's only requirement DataConfig lets any graph provide it.
 */
import { readdir, stat } from "node:fs/promises"
import { statBatcher, statVersion } from "./statBatch.ts"
import { join, resolve } from "node:path"
import { Context, Effect, Either, Layer } from "effect"
import type { ParsedBarCsv } from "../domain/barCsv.ts"
import { mergeSteps, normaliseSeries } from "../domain/barMerge.ts"
import { type BarSeries, emptySeries, firstTime, lastTime, takeRows, windowOf } from "../domain/barSeries.ts"
import { NotFound } from "../domain/dataErrors.ts"
import { readBounds, seriesKey, validateBars, validateSeries } from "../domain/seriesRules.ts"
import { parseTimeframe } from "../domain/Timeframe.ts"
import type { BarStoreShape, MergeResult, StoredSeries } from "./barStoreShape.ts"
import { DataConfig } from "./DataConfig.ts"
import { stepwise } from "./eventLoop.ts"
import {
  fingerprint,
  peekRange,
  readSeriesFile,
  storageError,
  sweepTempFiles,
  tryFs,
  writeSeriesFile
} from "./barFiles.ts"

export type { BarStoreShape, MergeOptions, MergeResult, ReadRange, StoredSeries } from "./barStoreShape.ts"
export { seriesKey }

const summary = (s: BarSeries, added: number, replaced: number): MergeResult => ({
  added,
  replaced,
  total: s.length,
  first: firstTime(s),
  last: lastTime(s)
})

/** Rows inside [start, end]: views when the file is ascending, a filtered copy when it is not. */
const within = (parsed: ParsedBarCsv, start: number, end: number): ParsedBarCsv => {
  if (parsed.outOfOrder === 0) {
    const w = windowOf(parsed, start, end)
    return w === parsed ? parsed : { ...parsed, ...w }
  }
  const keep: Array<number> = []
  for (let i = 0; i < parsed.length; i++) if (parsed.time[i]! >= start && parsed.time[i]! <= end) keep.push(i)
  return { ...parsed, ...takeRows(parsed, keep) }
}

const make = Effect.gen(function*() {
  const dir = resolve((yield* DataConfig).dataDir)
  const swept = yield* sweepTempFiles(dir)
  if (swept > 0) yield* Effect.logInfo(`BarStore: removed ${swept} temp file(s) left by crashed writers`)
  /** One semaphore per series file; Map access is synchronous, so get-or-create cannot race in one JS thread. */
  const locks = new Map<string, Effect.Semaphore>()
  /** Fingerprints of file versions this store parsed or wrote itself: `write` need not re-parse them. */
  const known = new Map<string, string>()

  /**
   * Series files by the (series, timeframe) text asked for: a pure function of the text, asked on every cached GET
   * (`version`); bounded, as any text can be asked. Refused names are not kept (they fail every time).
   */
  const located = new Map<string, { readonly name: string; readonly file: string }>()
  const locate = (series: string, timeframe: string) =>
    Effect.suspend(() => {
      const memo = `${series}\u0000${timeframe}`
      const known = located.get(memo)
      if (known !== undefined) return Effect.succeed(known)
      return Effect.gen(function*() {
        const key = yield* seriesKey(series)
        const tf = yield* parseTimeframe(timeframe)
        const name = `${key}_${tf.id}`
        const found = { name, file: join(dir, `${name}.csv`) }
        if (located.size >= 4096) located.clear()
        located.set(memo, found)
        return found
      })
    })

  const locked = <A, E>(file: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    Effect.suspend(() => {
      let lock = locks.get(file)
      if (!lock) locks.set(file, lock = Effect.unsafeMakeSemaphore(1))
      return lock.withPermits(1)(effect)
    })

  const load = (file: string, name: string) =>
    Effect.tap(readSeriesFile(file, name), (r) => Effect.sync(() => known.set(file, r.fingerprint)))

  const save = (file: string, data: BarSeries) =>
    Effect.gen(function*() {
      yield* writeSeriesFile(dir, file, data)
      known.set(file, fingerprint(yield* tryFs(file, () => stat(file))))
    })

  const read: BarStoreShape["read"] = Effect.fn("BarStore.read")(function*(series, timeframe, range = {}) {
    const { name, file } = yield* locate(series, timeframe)
    const { start, end } = yield* readBounds(range)
    const { parsed } = yield* load(file, name)
    return range.start === undefined && range.end === undefined ? parsed : within(parsed, start, end)
  })

  const range: BarStoreShape["range"] = Effect.fn("BarStore.range")(function*(series, timeframe) {
    const { name, file } = yield* locate(series, timeframe)
    const peeked = yield* peekRange(file, name)
    if (peeked) return peeked
    const { parsed } = yield* load(file, name)
    const first = firstTime(parsed), last = lastTime(parsed)
    if (first === null || last === null) return yield* new NotFound({ what: name, message: `${name} holds no bars` })
    if (parsed.outOfOrder === 0) return { first, last }
    let lo = Infinity, hi = -Infinity
    for (let i = 0; i < parsed.length; i++) {
      lo = Math.min(lo, parsed.time[i]!)
      hi = Math.max(hi, parsed.time[i]!)
    }
    return { first: lo, last: hi }
  })

  const merge: BarStoreShape["merge"] = Effect.fn("BarStore.merge")(function*(series, timeframe, bars, options = {}) {
    const { name, file } = yield* locate(series, timeframe)
    yield* validateBars(bars)
    return yield* locked(
      file,
      Effect.gen(function*() {
        const stored = yield* load(file, name).pipe(
          Effect.map((r) => r.parsed as BarSeries),
          Effect.catchTag("NotFound", () => Effect.succeed<BarSeries | undefined>(undefined))
        )
        const outcome = yield* stepwise(mergeSteps(stored ?? emptySeries(), bars, options.overwrite ?? true))
        const merged = outcome.series
        if (outcome.changed && (stored !== undefined || merged.length > 0)) yield* save(file, merged)
        return summary(merged, outcome.added, outcome.replaced)
      })
    )
  })

  const write: BarStoreShape["write"] = Effect.fn("BarStore.write")(function*(series, timeframe, data) {
    const { name, file } = yield* locate(series, timeframe)
    yield* validateSeries(data)
    const { series: sorted } = normaliseSeries(data)
    return yield* locked(
      file,
      Effect.gen(function*() {
        // a corrupt file is evidence: refuse to replace it (unless it is the very version this store wrote or read)
        const current = yield* Effect.promise(() => stat(file).then(fingerprint, () => undefined))
        if (current !== undefined && known.get(file) !== current) {
          yield* Effect.catchTag(load(file, name), "NotFound", () => Effect.void)
        }
        yield* save(file, sorted)
        return summary(sorted, sorted.length, 0)
      })
    )
  })

  const list: BarStoreShape["list"] = () =>
    Effect.gen(function*() {
      const entries = yield* tryFs(dir, () =>
        readdir(dir, { withFileTypes: true }).catch((
          e: { code?: string }
        ) => (e.code === "ENOENT" ? [] : Promise.reject(e))))
      const out: Array<StoredSeries> = []
      for (const entry of entries) {
        if (!entry.isFile() || !entry.name.endsWith(".csv")) {
          continue
        }
        const stem = entry.name.slice(0, -4)
        const cut = stem.lastIndexOf("_") // the series may itself contain '_' (KTRDR split on the first one)
        const key = seriesKey(stem.slice(0, cut))
        const tf = parseTimeframe(stem.slice(cut + 1))
        if (cut <= 0 || Either.isLeft(key) || key.right !== stem.slice(0, cut) || Either.isLeft(tf)) continue
        out.push({ series: key.right, timeframe: tf.right.id, file: join(dir, entry.name) })
      }
      return out.sort((
        a,
        b
      ) => (a.series === b.series ? a.timeframe.localeCompare(b.timeframe) : a.series < b.series ? -1 : 1))
    })

  /**
   * The file's version, by a synchronous stat (the promise form's thread-pool round trip was ~15% of a cached HTTP
   * answer's CPU), taken once per event-loop turn for all who ask in that turn (statBatch.ts). A data directory on a
   * slow network filesystem would make this the first thing to revisit.
   */
  const statOnce = statBatcher((file) => statVersion(file, storageError(file)))
  const version: BarStoreShape["version"] = (series, timeframe) =>
    Effect.flatMap(locate(series, timeframe), ({ file }) => statOnce(file))

  return BarStore.of({ read, range, merge, write, list, version })
})

export class BarStore extends Context.Tag("ktrdr/BarStore")<BarStore, BarStoreShape>() {
  /** Needs DataConfig; removes temp files of dead writers in dataDir when built. */
  static readonly layer = Layer.effect(BarStore, make)
}
