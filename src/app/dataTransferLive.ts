/**
 * Export and import between the configured store and a KTRDR data directory, in this process. The directory side is
 * the CSV BarStore itself pointed at DIR, so an exported file is byte for byte what the CSV store writes, and an
 * import reads every layout the CSV store reads. No IB session is opened.
 */
import { join, resolve } from "node:path"
import { Effect, Layer } from "effect"
import type { TransferOps, TransferredSeries } from "../cli/dataTransfer.ts"
import { BarStore } from "../layers/BarStore.ts"
import type { BarStoreShape } from "../layers/barStoreShape.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { CACHE_FILE, fileCacheStore, SymbolCacheStore } from "../layers/SymbolCacheStore.ts"
import { storageLayer } from "./Core.ts"

const csvStore = (dir: string) =>
  Effect.provide(
    BarStore,
    BarStore.layer.pipe(Layer.provide(DataConfig.make({ dataDir: dir })))
  )

/** The configured store (KTRDR_DATABASE_URL, else KTRDR_DATA_DIR) for the duration of `use`. */
const withConfigured = <A, E>(
  use: (store: BarStoreShape, cache: SymbolCacheStore["Type"], where: string) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const store = yield* BarStore
    const cache = yield* SymbolCacheStore
    const where = cache.location.startsWith("postgres:")
      ? cache.location.replace(/\/symbol_cache$/, "")
      : resolve((yield* DataConfig).dataDir)
    return yield* use(store, cache, where)
  }).pipe(Effect.provide(storageLayer().pipe(Layer.provideMerge(DataConfig.layer))))

const wanted = (filters: ReadonlyArray<string>) => (series: string, timeframe: string) =>
  filters.length === 0 ||
  filters.some((f) => f.toUpperCase() === series || f.toUpperCase() === `${series}_${timeframe}`.toUpperCase())

const exportTo: TransferOps["exportTo"] = (dir, filters) =>
  withConfigured((store, cache, where) =>
    Effect.gen(function*() {
      const csv = yield* csvStore(dir)
      const keep = wanted(filters)
      const out: Array<TransferredSeries> = []
      for (const s of yield* store.list()) {
        if (!keep(s.series, s.timeframe)) continue
        const data = yield* store.read(s.series, s.timeframe)
        const r = yield* csv.write(s.series, s.timeframe, data)
        out.push({ series: s.series, timeframe: s.timeframe, bars: r.total, action: "written" })
      }
      const state = (yield* cache.load(Date.now())).state
      const entries = Object.keys(state.entries).length
      if (entries > 0 && cache.location !== join(resolve(dir), CACHE_FILE)) {
        yield* fileCacheStore(join(dir, CACHE_FILE)).save(state, Date.now())
      }
      return { store: where, series: out, cacheEntries: entries }
    })
  )

const importFrom: TransferOps["importFrom"] = (dir) =>
  withConfigured((store, cache, where) =>
    Effect.gen(function*() {
      const csv = yield* csvStore(dir)
      const out: Array<TransferredSeries> = []
      for (const s of yield* csv.list()) {
        const data = yield* csv.read(s.series, s.timeframe)
        const before = yield* store.version(s.series, s.timeframe)
        if (before === undefined) {
          const r = yield* store.write(s.series, s.timeframe, data)
          out.push({ series: s.series, timeframe: s.timeframe, bars: r.total, action: "written" })
          continue
        }
        // already stored: merge (the file wins on equal timestamps, later stored bars stay)
        const r = yield* store.merge(s.series, s.timeframe, data)
        const changed = (yield* store.version(s.series, s.timeframe)) !== before
        out.push({ series: s.series, timeframe: s.timeframe, bars: r.total, action: changed ? "merged" : "unchanged" })
      }
      // the directory's symbol cache fills in symbols the store does not know yet; known ones stay as stored
      const file = fileCacheStore(join(dir, CACHE_FILE))
      const incoming = (yield* file.load(Date.now())).state
      const current = yield* cache.load(Date.now())
      const added = Object.keys(incoming.entries).filter((k) => !(k in current.state.entries))
      if (added.length > 0 && current.writable) {
        yield* cache.save({
          extra: { ...incoming.extra, ...current.state.extra },
          entries: { ...incoming.entries, ...current.state.entries },
          validated: [...new Set([...current.state.validated, ...incoming.validated])]
        }, Date.now())
      }
      return { store: where, series: out, cacheEntries: added.length }
    })
  )

export const transfer: TransferOps = { exportTo, importFrom }
