/**
 * The symbol cache as one PostgreSQL row holding the same JSON text the file would (so export and KTRDR see the
 * same document), with a version from the shared sequence: readers fetch the text again only when it moved.
 *
 * Several processes share the row, each saving its whole in-memory state after every change. A plain overwrite
 * would lose the entries another process added since this one loaded; so a save locks the row, and writes the
 * stored document with only this process's own changes applied — the entries (and validated symbols) it added,
 * replaced or removed since its last load or save. Two processes resolving different symbols both keep theirs; the
 * same symbol saved by both ends as the later save's entry.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { StorageError } from "../domain/dataErrors.ts"
import { type CacheState, decodeCache, emptyCache, encodeCache } from "../domain/symbolCacheCodec.ts"
import { causeText } from "./pgDatabase.ts"
import { retryLostOnce } from "./pgFaults.ts"
import { SymbolCacheStore } from "./SymbolCacheStore.ts"

const LOAD = `select document, version from ktrdr_symbol_cache`
const VERSION = `select version from ktrdr_symbol_cache`
/** Makes sure the row exists, so the next statement has a row to lock (a no-op once it does). */
const ENSURE = `
  insert into ktrdr_symbol_cache (id, document, version) values (true, $1, nextval('ktrdr_version_seq'))
  on conflict (id) do nothing`
const LOCK = `select document from ktrdr_symbol_cache for update`
const SAVE = `update ktrdr_symbol_cache set document = $1, version = nextval('ktrdr_version_seq')`

/**
 * `stored` with the changes that took `base` to `mine` applied: entries compared by identity (the catalog replaces
 * an entry object when it changes it), validated symbols by name. Pure.
 */
export const applyChanges = (stored: CacheState, base: CacheState, mine: CacheState): CacheState => {
  const entries: Record<string, unknown> = { ...stored.entries }
  for (const [k, v] of Object.entries(mine.entries)) {
    if (base.entries[k] !== v) entries[k] = v
  }
  for (const k of Object.keys(base.entries)) {
    if (!(k in mine.entries)) delete entries[k]
  }
  const had = new Set(base.validated), keep = new Set(mine.validated)
  const validated = stored.validated.filter((k) => keep.has(k) || !had.has(k))
  for (const k of mine.validated) if (!had.has(k) && !validated.includes(k)) validated.push(k)
  return { extra: mine.extra === base.extra ? stored.extra : mine.extra, entries, validated }
}

export const pgSymbolCacheLayer = (database: string) =>
  Layer.effect(
    SymbolCacheStore,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const location = `postgres:${database}/symbol_cache`
      let seen: { readonly version: number; readonly entries: Readonly<Record<string, unknown>> } | undefined
      /** This process's state as of its last load or save: what its next save's changes are measured from. */
      let base: CacheState = emptyCache

      const load = () =>
        Effect.gen(function*() {
          const [row] = yield* sql.unsafe<{ readonly document: string }>(LOAD)
          if (row === undefined) return { state: base = emptyCache, writable: true }
          const decoded = decodeCache(row.document)
          if ("state" in decoded) return { state: base = decoded.state, writable: true }
          yield* Effect.logWarning(`symbol cache ${location} is corrupt (${decoded.corrupt}); left alone, not saved`)
          return { state: emptyCache, writable: false }
        }).pipe(
          (self) => retryLostOnce(self, (e) => e),
          Effect.catchTag("SqlError", (e) =>
            Effect.as(
              Effect.logWarning(`symbol cache ${location} unreadable (${causeText(e.cause)}); using an empty cache`),
              { state: emptyCache, writable: false }
            ))
        )

      const entries = Effect.gen(function*() {
        const [v] = yield* sql.unsafe<{ readonly version: number }>(VERSION)
        if (v === undefined) return {}
        if (seen?.version === v.version) return seen.entries
        const [row] = yield* sql.unsafe<{ readonly document: string; readonly version: number }>(LOAD)
        if (row === undefined) return {}
        const decoded = decodeCache(row.document)
        seen = { version: row.version, entries: "state" in decoded ? decoded.state.entries : {} }
        return seen.entries
      }).pipe(
        (self) => retryLostOnce(self, (e) => e),
        Effect.catchTag("SqlError", (e) =>
          Effect.as(Effect.logWarning(`symbol cache ${location} unreadable (${causeText(e.cause)})`), {}))
      )

      const save = (state: CacheState, nowMs: number) =>
        Effect.gen(function*() {
          yield* sql.unsafe(ENSURE, [encodeCache(emptyCache, nowMs)])
          const [row] = yield* sql.unsafe<{ readonly document: string }>(LOCK)
          const decoded = row === undefined ? undefined : decodeCache(row.document)
          // a stored document that is not a cache any more is replaced, as the file would be
          const merged = decoded !== undefined && "state" in decoded ? applyChanges(decoded.state, base, state) : state
          yield* sql.unsafe(SAVE, [encodeCache(merged, nowMs)])
        }).pipe(
          sql.withTransaction,
          (self) =>
            retryLostOnce(self, (e) =>
              new StorageError({ file: location, message: `cannot save the symbol cache: ${causeText(e.cause)}` })),
          Effect.tap(() => {
            base = state
          })
        )

      return SymbolCacheStore.of({ location, load, save, entries })
    })
  )
