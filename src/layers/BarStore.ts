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
import { join, resolve } from "node:path"
import { Context, Effect, Either, Layer } from "effect"
import type { Bar } from "../domain/Bar.ts"
import type { BarSeries, ParsedBarCsv } from "../domain/barCsv.ts"
import { unwritable } from "../domain/barCsvFormat.ts"
import { mergeBars, normaliseSeries } from "../domain/barMerge.ts"
import { CorruptData, InvalidInput, NotFound, StorageError } from "../domain/dataErrors.ts"
import { parseTimeframe, type TimeframeId } from "../domain/Timeframe.ts"
import { DataConfig } from "./DataConfig.ts"
import { fingerprint, peekRange, readSeriesFile, sweepTempFiles, tryFs, writeSeriesFile } from "./barFiles.ts"

/** Inclusive bounds, epoch ms UTC (KTRDR §1.5: `start <= t <= end`). */
export interface ReadRange {
  readonly start?: number
  readonly end?: number
}

export interface MergeOptions {
  /** Equal timestamps: the new bar wins (default), or the stored one when false. */
  readonly overwrite?: boolean
}

export interface MergeResult {
  readonly added: number
  readonly replaced: number
  readonly total: number
  /** null only when the series is still empty. */
  readonly first: number | null
  readonly last: number | null
}

export interface StoredSeries {
  readonly series: string
  readonly timeframe: TimeframeId
  readonly file: string
}

export interface BarStoreShape {
  /** Bars in [start, end], file order; ordering/duplicate/missing counts describe the whole file. */
  readonly read: (
    series: string,
    timeframe: string,
    range?: ReadRange
  ) => Effect.Effect<ParsedBarCsv, InvalidInput | NotFound | CorruptData | StorageError>
  /** First and last stored timestamps from the file's ends, without parsing it all. NotFound when missing or empty. */
  readonly range: (
    series: string,
    timeframe: string
  ) => Effect.Effect<
    { readonly first: number; readonly last: number },
    InvalidInput | NotFound | CorruptData | StorageError
  >
  /** Stored ∪ new bars, sorted and unique, saved atomically; skipped when nothing changes. */
  readonly merge: (
    series: string,
    timeframe: string,
    bars: ReadonlyArray<Bar>,
    options?: MergeOptions
  ) => Effect.Effect<MergeResult, InvalidInput | CorruptData | StorageError>
  /** Replaces the series (sorted, unique; the last of equal timestamps kept). Refuses to replace a corrupt file. */
  readonly write: (
    series: string,
    timeframe: string,
    data: BarSeries
  ) => Effect.Effect<MergeResult, InvalidInput | CorruptData | StorageError>
  /** Every `<SERIES>_<TF>.csv` with a valid key and a known timeframe; temp and other files are ignored. */
  readonly list: () => Effect.Effect<ReadonlyArray<StoredSeries>, StorageError>
}

const SERIES = /^[A-Z0-9][A-Z0-9._-]{0,31}$/

/**
 * Canonical (upper-case) series key, or InvalidInput. The pattern alone already excludes `/`, `\`, control
 * characters and a leading dot; `..` is refused as well so no key ever looks like a path step.
 */
export const seriesKey = (series: string): Either.Either<string, InvalidInput> => {
  const key = series.toUpperCase()
  const bad = (message: string) => Either.left(new InvalidInput({ field: "series", value: series, message }))
  if (key.length === 0) return bad("series is empty")
  if (key.length > 32) return bad("series is longer than 32 characters")
  if (key.includes("..") || !SERIES.test(key)) {
    return bad(
      "series may hold only A–Z, 0–9, '.', '_', '-', must start with a letter or digit and must not contain '..'"
    )
  }
  return Either.right(key)
}

const validateBars = (bars: ReadonlyArray<Bar>): Either.Either<void, InvalidInput> => {
  for (let i = 0; i < bars.length; i++) {
    const why = unwritable(bars[i]!)
    if (why) return Either.left(new InvalidInput({ field: "bars", value: `bars[${i}]`, message: why }))
  }
  return Either.right(undefined)
}

const RESERVED = new Set(["open", "high", "low", "close", "volume"])

const validateSeries = (data: BarSeries): Either.Either<void, InvalidInput> => {
  const bad = (value: string, message: string) =>
    Either.left(new InvalidInput({ field: "extraColumns", value, message }))
  const names = new Set<string>()
  for (const name of data.extraColumns) {
    const key = name.trim().toLowerCase()
    if (RESERVED.has(key) || names.has(key)) {
      return bad(name, `extra column ${JSON.stringify(name)} clashes with another column`)
    }
    names.add(key)
  }
  if (data.extras.length !== data.bars.length) {
    return bad(String(data.extras.length), "extras must hold one row per bar")
  }
  for (const row of data.extras) {
    if (row.length !== data.extraColumns.length) {
      return bad(String(row.length), "every extras row needs one value per extra column")
    }
  }
  return validateBars(data.bars)
}

const summary = (bars: ReadonlyArray<Bar>, added: number, replaced: number): MergeResult => ({
  added,
  replaced,
  total: bars.length,
  first: bars[0]?.time ?? null,
  last: bars[bars.length - 1]?.time ?? null
})

const lowerBound = (bars: ReadonlyArray<Bar>, t: number): number => {
  let lo = 0, hi = bars.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (bars[mid]!.time < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

const within = (parsed: ParsedBarCsv, start: number, end: number): ParsedBarCsv => {
  const { bars, extras } = parsed
  if (parsed.outOfOrder === 0) { // ascending: two binary searches and a slice
    const from = lowerBound(bars, start), to = lowerBound(bars, end + 1)
    return from === 0 && to === bars.length
      ? parsed
      : { ...parsed, bars: bars.slice(from, to), extras: extras.slice(from, to) }
  }
  const keep: Array<number> = []
  for (let i = 0; i < bars.length; i++) if (bars[i]!.time >= start && bars[i]!.time <= end) keep.push(i)
  return { ...parsed, bars: keep.map((i) => bars[i]!), extras: keep.map((i) => extras[i]!) }
}

const make = Effect.gen(function*() {
  const dir = resolve((yield* DataConfig).dataDir)
  const swept = yield* sweepTempFiles(dir)
  if (swept > 0) yield* Effect.logInfo(`BarStore: removed ${swept} temp file(s) left by crashed writers`)
  /** One semaphore per series file; Map access is synchronous, so get-or-create cannot race in one JS thread. */
  const locks = new Map<string, Effect.Semaphore>()
  /** Fingerprints of file versions this store parsed or wrote itself: `write` need not re-parse them. */
  const known = new Map<string, string>()

  const locate = (series: string, timeframe: string) =>
    Effect.gen(function*() {
      const key = yield* seriesKey(series)
      const tf = yield* parseTimeframe(timeframe)
      const name = `${key}_${tf.id}`
      return { name, file: join(dir, `${name}.csv`) }
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
    const start = range.start ?? -Infinity, end = range.end ?? Infinity
    if (Number.isNaN(start) || Number.isNaN(end) || start > end) {
      return yield* new InvalidInput({
        field: "range",
        value: `${range.start}..${range.end}`,
        message: "start must not be after end"
      })
    }
    const { parsed } = yield* load(file, name)
    return range.start === undefined && range.end === undefined ? parsed : within(parsed, start, end)
  })

  const range: BarStoreShape["range"] = Effect.fn("BarStore.range")(function*(series, timeframe) {
    const { name, file } = yield* locate(series, timeframe)
    const peeked = yield* peekRange(file, name)
    if (peeked) return peeked
    const { bars } = (yield* load(file, name)).parsed
    const first = bars[0], last = bars[bars.length - 1]
    if (!first || !last) return yield* new NotFound({ what: name, message: `${name} holds no bars` })
    return { first: first.time, last: last.time }
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
        const outcome = mergeBars(stored ?? { bars: [], extraColumns: [], extras: [] }, bars, options.overwrite ?? true)
        const merged = outcome.series
        if (outcome.changed && (stored !== undefined || merged.bars.length > 0)) yield* save(file, merged)
        return summary(merged.bars, outcome.added, outcome.replaced)
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
        return summary(sorted.bars, sorted.bars.length, 0)
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

  return BarStore.of({ read, range, merge, write, list })
})

export class BarStore extends Context.Tag("ktrdr/BarStore")<BarStore, BarStoreShape>() {
  /** Needs DataConfig; removes temp files of dead writers in dataDir when built. */
  static readonly layer = Layer.effect(BarStore, make)
}
