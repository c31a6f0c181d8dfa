/**
 * The PostgreSQL symbol cache shared by two processes (two pools, two layers): each save applies only that process's
 * own changes to the stored document, so concurrent catalogs keep each other's entries instead of the last writer
 * erasing them; the stored text stays KTRDR's document.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { type CacheState, decodeCache } from "../../src/domain/symbolCacheCodec.ts"
import { describeDatabase } from "../../src/layers/DatabaseConfig.ts"
import { pgDatabase } from "../../src/layers/pgDatabase.ts"
import { applyChanges, pgSymbolCacheLayer } from "../../src/layers/pgSymbolCache.ts"
import { SymbolCacheStore } from "../../src/layers/SymbolCacheStore.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"

let cluster: PgCluster
beforeAll(async () => {
  cluster = await startPgCluster()
})
afterAll(() => cluster?.stop())

const process_ = (url: string) =>
  pgSymbolCacheLayer(describeDatabase(url)).pipe(
    Layer.provide(pgDatabase(Redacted.make(url))),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

/** A catalog's way of changing its state: a new entry object for the key, the key validated. */
const put = (s: CacheState, key: string, entry: unknown): CacheState => ({
  ...s,
  entries: { ...s.entries, [key]: entry },
  validated: s.validated.includes(key) ? s.validated : [...s.validated, key]
})

describe("PostgreSQL symbol cache", () => {
  it.live(
    "two processes saving at once keep each other's entries; a stale copy does not undo a newer entry",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        const a = yield* Layer.build(process_(url)).pipe(Effect.flatMap((ctx) => Effect.provide(SymbolCacheStore, ctx)))
        const b = yield* Layer.build(process_(url)).pipe(Effect.flatMap((ctx) => Effect.provide(SymbolCacheStore, ctx)))
        let sa = (yield* a.load(0)).state, sb = (yield* b.load(0)).state
        // both started from the same (empty) document; each resolves its own symbols, saving after each change in
        // order (as a catalog does, under its lock), the two processes at the same time
        const keys = (p: string) => Array.from({ length: 10 }, (_, k) => `${p}${k}`)
        yield* Effect.all([
          Effect.forEach(keys("A"), (key) => {
            sa = put(sa, key, { symbol: key, by: "a" })
            return a.save(sa, 1_000)
          }),
          Effect.forEach(keys("B"), (key) => {
            sb = put(sb, key, { symbol: key, by: "b" })
            return b.save(sb, 1_000)
          })
        ], { concurrency: 2 })
        const all = [...keys("A"), ...keys("B")].sort()
        const stored = yield* b.entries
        expect(Object.keys(stored).sort()).toEqual(all)
        // a updates B3, which b also holds (an older copy); b then saves a change of its own: a's B3 stays
        sa = put(sa, "B3", { symbol: "B3", by: "a", newer: true })
        yield* a.save(sa, 2_000)
        sb = put(sb, "B9", { symbol: "B9", by: "b", again: true })
        yield* b.save(sb, 3_000)
        const after = yield* a.entries
        expect(after["B3"]).toEqual({ symbol: "B3", by: "a", newer: true })
        expect(after["B9"]).toEqual({ symbol: "B9", by: "b", again: true })
        // KTRDR's document: every key validated, last_updated from the last save
        const row = yield* Effect.promise(() =>
          cluster.query(new URL(url).pathname.slice(1), "select document from ktrdr_symbol_cache")
        )
        const doc = decodeCache(row.rows[0].document as string)
        expect("state" in doc && [...doc.state.validated].sort()).toEqual(all)
        expect(JSON.parse(row.rows[0].document as string).last_updated).toBe(3)
        // a new process loads the union
        const c = yield* Layer.build(process_(url)).pipe(Effect.flatMap((ctx) => Effect.provide(SymbolCacheStore, ctx)))
        expect(Object.keys((yield* c.load(0)).state.entries)).toHaveLength(20)
      }).pipe(Effect.scoped),
    60_000
  )

  it("applyChanges: removals and extra fields are this process's changes too; others' keys stay", () => {
    const e1 = { v: 1 }, e2 = { v: 2 }, e3 = { v: 3 }, other = { v: 9 }
    const base: CacheState = { extra: { x: 1 }, entries: { K1: e1, K2: e2 }, validated: ["K1", "K2"] }
    const mine: CacheState = { extra: base.extra, entries: { K1: e1, K3: e3 }, validated: ["K1", "K3"] }
    const stored: CacheState = { extra: { y: 2 }, entries: { K1: e1, K2: e2, O: other }, validated: ["K1", "K2", "O"] }
    expect(applyChanges(stored, base, mine)).toEqual({
      extra: { y: 2 },
      entries: { K1: e1, O: other, K3: e3 },
      validated: ["K1", "O", "K3"]
    })
    const extra = { z: 3 }
    expect(applyChanges(stored, base, { ...mine, extra }).extra).toBe(extra)
  })
})
