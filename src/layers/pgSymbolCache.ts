/**
 * The symbol cache as one PostgreSQL row holding the same JSON text the file would (so export and KTRDR see the
 * same document), with a version from the shared sequence: readers fetch the text again only when it moved.
 * Last writer wins, as with the file.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { StorageError } from "../domain/dataErrors.ts"
import { decodeCache, emptyCache, encodeCache } from "../domain/symbolCacheCodec.ts"
import { causeText } from "./pgDatabase.ts"
import { SymbolCacheStore } from "./SymbolCacheStore.ts"

const LOAD = `select document, version from ktrdr_symbol_cache`
const VERSION = `select version from ktrdr_symbol_cache`
const SAVE = `
  insert into ktrdr_symbol_cache (id, document, version) values (true, $1, nextval('ktrdr_version_seq'))
  on conflict (id) do update set document = excluded.document, version = excluded.version`

export const pgSymbolCacheLayer = (database: string) =>
  Layer.effect(
    SymbolCacheStore,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const location = `postgres:${database}/symbol_cache`
      let seen: { readonly version: number; readonly entries: Readonly<Record<string, unknown>> } | undefined

      const load = () =>
        Effect.gen(function*() {
          const [row] = yield* sql.unsafe<{ readonly document: string }>(LOAD)
          if (row === undefined) return { state: emptyCache, writable: true }
          const decoded = decodeCache(row.document)
          if ("state" in decoded) return { state: decoded.state, writable: true }
          yield* Effect.logWarning(`symbol cache ${location} is corrupt (${decoded.corrupt}); left alone, not saved`)
          return { state: emptyCache, writable: false }
        }).pipe(
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
        Effect.catchTag("SqlError", (e) =>
          Effect.as(Effect.logWarning(`symbol cache ${location} unreadable (${causeText(e.cause)})`), {}))
      )

      return SymbolCacheStore.of({
        location,
        load,
        save: (state, nowMs) =>
          sql.unsafe(SAVE, [encodeCache(state, nowMs)]).pipe(
            Effect.asVoid,
            Effect.mapError((e) =>
              new StorageError({ file: location, message: `cannot save the symbol cache: ${causeText(e.cause)}` })
            )
          ),
        entries
      })
    })
  )
