/**
 * Where the symbol cache document lives: `<dataDir>/symbol_discovery_cache.json` (the default, KTRDR's file) or a
 * PostgreSQL row (pgSymbolCache.ts, with KTRDR_DATABASE_URL). SymbolCatalog loads it once and saves every change
 * through `save`; the HTTP read views use `entries`, which re-reads only when another writer changed it.
 */
import { Context, Effect, Layer } from "effect"
import { constants } from "node:fs"
import { copyFile, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises"
import { dirname, join } from "node:path"
import { StorageError } from "../domain/dataErrors.ts"
import { type CacheState, decodeCache, emptyCache, encodeCache } from "../domain/symbolCacheCodec.ts"
import { DataConfig } from "./DataConfig.ts"

export const CACHE_FILE = "symbol_discovery_cache.json"

export interface LoadedCache {
  readonly state: CacheState
  /** False when the stored document exists but could not be read or preserved: it must not be replaced. */
  readonly writable: boolean
}

export interface SymbolCacheStoreShape {
  /** For people: the file's path, or `postgres:<host:port/db>/symbol_cache`. */
  readonly location: string
  /** The whole document, once. Never fails: missing is empty; unreadable or corrupt is empty and kept. */
  readonly load: (nowMs: number) => Effect.Effect<LoadedCache>
  /** Replaces the document atomically. */
  readonly save: (state: CacheState, nowMs: number) => Effect.Effect<void, StorageError>
  /** The stored entries as they are now (read-only, decoded again only when they changed); empty when unusable. */
  readonly entries: Effect.Effect<Readonly<Record<string, unknown>>>
}

export class SymbolCacheStore extends Context.Tag("ktrdr/SymbolCacheStore")<SymbolCacheStore, SymbolCacheStoreShape>() {
  /** `<dataDir>/symbol_discovery_cache.json`; needs DataConfig. */
  static readonly file = Layer.effect(
    SymbolCacheStore,
    Effect.map(DataConfig, (cfg) => fileCacheStore(join(cfg.dataDir, CACHE_FILE)))
  )
}

/** Reads the file once. Never fails: a missing file is an empty cache, a corrupt one is copied aside. */
const loadCache = (file: string, nowMs: number): Effect.Effect<LoadedCache> =>
  Effect.gen(function*() {
    const text = yield* Effect.tryPromise(() => readFile(file, "utf8")).pipe(Effect.either)
    if (text._tag === "Left") {
      const code = (text.left.error as NodeJS.ErrnoException | undefined)?.code
      if (code === "ENOENT") return { state: emptyCache, writable: true }
      yield* Effect.logWarning(
        `symbol cache ${file} unreadable (${String(text.left.error)}); using an empty cache and leaving the file alone`
      )
      return { state: emptyCache, writable: false }
    }
    const decoded = decodeCache(text.right)
    if ("state" in decoded) return { state: decoded.state, writable: true }
    const aside = `${file}.corrupt-${nowMs}`
    const kept = yield* Effect.tryPromise(() => copyFile(file, aside, constants.COPYFILE_EXCL)).pipe(Effect.either)
    if (kept._tag === "Left") {
      yield* Effect.logWarning(
        `symbol cache ${file} is corrupt (${decoded.corrupt}) and could not be copied aside; ` +
          "using an empty cache without saving"
      )
      return { state: emptyCache, writable: false }
    }
    yield* Effect.logWarning(`symbol cache ${file} is corrupt (${decoded.corrupt}); kept as ${aside}, starting empty`)
    return { state: emptyCache, writable: true }
  })

let tmpCounter = 0

/** Temp file in the same directory, fsync, rename, fsync the directory: old or new, never half. */
const writeCacheAtomic = (file: string, text: string): Effect.Effect<void, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(dirname(file), { recursive: true })
      const tmp = `${file}.tmp-${process.pid}-${++tmpCounter}`
      try {
        const fh = await open(tmp, "w")
        try {
          await fh.writeFile(text, "utf8")
          await fh.sync()
        } finally {
          await fh.close()
        }
        await rename(tmp, file)
      } catch (e) {
        await unlink(tmp).catch(() => undefined)
        throw e
      }
      const dir = await open(dirname(file), "r").catch(() => undefined)
      await dir?.sync().catch(() => undefined)
      await dir?.close()
    },
    catch: (e) =>
      new StorageError({ file, message: `cannot save the symbol cache: ${e instanceof Error ? e.message : String(e)}` })
  })

/** The entries, re-read only when the file's identity, size or mtime changes; a corrupt file warns once. */
const fileEntries = (file: string) => {
  let seen: { readonly version: string; readonly entries: Readonly<Record<string, unknown>> } | undefined
  return Effect.gen(function*() {
    const s = yield* Effect.promise(() => stat(file).catch(() => undefined))
    if (s === undefined) return {}
    const version = `${s.ino}:${s.size}:${s.mtimeMs}`
    if (seen?.version === version) return seen.entries
    const text = yield* Effect.promise(() => readFile(file, "utf8").catch((e: unknown) => ({ error: String(e) })))
    const decoded = typeof text === "string" ? decodeCache(text) : { corrupt: text.error }
    if ("corrupt" in decoded) {
      yield* Effect.logWarning(
        `symbol cache ${file} not usable (${decoded.corrupt}); symbols are listed without metadata`
      )
    }
    const entries = "state" in decoded ? decoded.state.entries : {}
    seen = { version, entries }
    return entries
  })
}

export const fileCacheStore = (file: string): SymbolCacheStoreShape => ({
  location: file,
  load: (nowMs) => loadCache(file, nowMs),
  save: (state, nowMs) => writeCacheAtomic(file, encodeCache(state, nowMs)),
  entries: fileEntries(file)
})
