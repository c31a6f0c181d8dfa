/**
 * What only the PostgreSQL store has to prove: a segment's merge is atomic when its connection dies mid-statement,
 * a schema migrated by newer code is refused, an unreachable database is one clear line without the password,
 * window reads use the key, and two processes (two pools) see each other's writes and versions.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Logger, LogLevel, Redacted } from "effect"
import { seriesFromBars } from "../../src/domain/barSeries.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import type { BarStoreShape } from "../../src/layers/barStoreShape.ts"
import { describeDatabase } from "../../src/layers/DatabaseConfig.ts"
import { readQuery } from "../../src/layers/pgBarSql.ts"
import { pgBarStoreLayer } from "../../src/layers/PgBarStore.ts"
import { pgDatabase } from "../../src/layers/pgDatabase.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"
import { bar } from "./barStore.suite.ts"

let cluster: PgCluster
beforeAll(async () => {
  cluster = await startPgCluster()
})
afterAll(() => cluster?.stop())

const quiet = Logger.minimumLogLevel(LogLevel.Warning)
const storeLayer = (url: string) =>
  pgBarStoreLayer(describeDatabase(url)).pipe(Layer.provide(pgDatabase(Redacted.make(url))), Layer.provide(quiet))
const useStore = <A, E>(url: string, use: (store: BarStoreShape) => Effect.Effect<A, E>) =>
  Effect.provide(Effect.flatMap(BarStore, use), storeLayer(url))

const T0 = Date.UTC(2024, 0, 1)
const minutes = (from: number, n: number, close = 1) =>
  seriesFromBars(Array.from({ length: n }, (_, i) => bar(T0 + (from + i) * 60_000, close + i / 1000)))
const dbName = (url: string) => new URL(url).pathname.slice(1)

/** bar_count of the series row and the rows really stored: they must always agree. */
const counts = async (url: string, series: string) => {
  const r = await cluster.query(
    dbName(url),
    `select s.bar_count, (select count(*) from ktrdr_bars b where b.series_id = s.id) as rows
     from ktrdr_series s where s.series = $1`,
    [series]
  )
  return { barCount: Number(r.rows[0]?.bar_count), rows: Number(r.rows[0]?.rows) }
}

/**
 * Terminates the backends of merges working on the staging table (its COPY or its merge statement) until `times` of
 * them died, polling every 20 ms; how many it killed.
 */
const killMerges = (url: string, times: number) =>
  Effect.gen(function*() {
    const killed = new Set<number>()
    for (let i = 0; i < 600 && killed.size < times; i++) {
      yield* Effect.sleep("20 millis")
      const r = yield* Effect.promise(() =>
        cluster.query(
          dbName(url),
          `select pid, pg_terminate_backend(pid) as k from pg_stat_activity
           where datname = $1 and state = 'active' and query like '%ktrdr_stage%' and pid <> pg_backend_pid()`,
          [dbName(url)]
        )
      )
      for (const row of r.rows) killed.add(Number(row.pid))
    }
    return killed.size
  })

/** A large segment overlapping 1000 stored bars: it is staged, then inserts and updates in one statement. */
const big = minutes(500, 400_000, 2)
const bigMerged = {
  added: 400_000 - 500,
  replaced: 500,
  total: 500 + 400_000,
  first: T0,
  last: T0 + 400_499 * 60_000
}

describe("PgBarStore: PostgreSQL only", () => {
  it.live(
    "a merge whose connection is killed on its attempt and its retry leaves the old state, and the store goes on",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        yield* useStore(url, (store) =>
          Effect.gen(function*() {
            yield* store.merge("ATOM", "1m", minutes(0, 1000))
            const v0 = yield* store.version("ATOM", "1m")
            const fiber = yield* Effect.fork(store.merge("ATOM", "1m", big))
            expect(yield* killMerges(url, 2)).toBe(2)
            const exit = yield* Fiber.await(fiber)
            expect(Exit.isFailure(exit)).toBe(true)
            if (Exit.isFailure(exit)) expect(JSON.stringify(exit.cause)).toContain("StorageError")
            // old state: the 1000 first bars, unchanged, and the counts agree with the rows
            const back = yield* store.read("ATOM", "1m")
            expect(back.length).toBe(1000)
            expect(back.close[999]).toBe(1 + 999 / 1000)
            expect(yield* store.version("ATOM", "1m")).toBe(v0)
            expect(yield* Effect.promise(() => counts(url, "ATOM"))).toEqual({ barCount: 1000, rows: 1000 })
            // the pool replaced the dead connections: the same merge now succeeds whole
            expect(yield* store.merge("ATOM", "1m", big)).toEqual(bigMerged)
            expect(yield* Effect.promise(() => counts(url, "ATOM"))).toEqual({ barCount: 400_500, rows: 400_500 })
          }))
      }),
    120_000
  )

  it.live(
    "a merge whose connection is killed once is retried on a fresh connection and lands whole",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        yield* useStore(url, (store) =>
          Effect.gen(function*() {
            yield* store.merge("ONCE", "1m", minutes(0, 1000))
            const fiber = yield* Effect.fork(store.merge("ONCE", "1m", big))
            expect(yield* killMerges(url, 1)).toBe(1)
            expect(yield* Fiber.join(fiber)).toEqual(bigMerged)
            expect(yield* Effect.promise(() => counts(url, "ONCE"))).toEqual({ barCount: 400_500, rows: 400_500 })
            const back = yield* store.read("ONCE", "1m")
            expect(back.length).toBe(400_500)
            expect(back.close[400_499]).toBe(2 + 399_999 / 1000)
          }))
      }),
    120_000
  )

  it.live(
    "reads and writes right after every connection of the pool was terminated: no error reaches the caller",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        yield* useStore(url, (store) =>
          Effect.gen(function*() {
            // several pooled connections, idle once these finish
            yield* Effect.all(Array.from({ length: 4 }, (_, k) => store.merge(`P${k}`, "1h", minutes(0, 100))), {
              concurrency: "unbounded"
            })
            for (let round = 0; round < 5; round++) {
              // the event loop is blocked while the server ends them: no pooled client has noticed when this returns
              expect(cluster.terminateSync(dbName(url))).toBeGreaterThan(0)
              // straight after the cut: the pool may still hold clients whose sockets it has not seen die
              const [read, merged, range] = yield* Effect.all([
                store.read(`P${round % 4}`, "1h"),
                store.merge(`P${(round + 1) % 4}`, "1h", minutes(100 + round, 1)),
                store.range(`P${(round + 2) % 4}`, "1h")
              ], { concurrency: "unbounded" })
              expect(read.length).toBeGreaterThanOrEqual(100)
              expect(merged.added).toBe(1)
              expect(range.first).toBe(T0)
            }
          }))
      }),
    60_000
  )

  it.live(
    "long series with extras travel whole through COPY both ways: many chunks, rows straddling them, unicode",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        const n = 150_000
        const base = minutes(0, n)
        const note = (i: number) => `${i % 7 === 0 ? "" : "ünï-\"q\",\\"}${"x".repeat(i % 40)}${i}`
        const data = {
          ...base,
          extraColumns: ["wap", "note"],
          extras: [Array.from({ length: n }, (_, i) => String(i / 8)), Array.from({ length: n }, (_, i) => note(i))]
        }
        yield* useStore(url, (store) =>
          Effect.gen(function*() {
            expect((yield* store.write("XTRA", "1m", data)).total).toBe(n)
            const back = yield* store.read("XTRA", "1m")
            expect(back.length).toBe(n)
            expect(back.extraColumns).toEqual(["wap", "note"])
            expect(back.extras[1]).toEqual(data.extras[1])
            expect(back.extras[0]![n - 1]).toBe(String((n - 1) / 8))
            expect(Array.from(back.close)).toEqual(Array.from(base.close))
            const window = yield* store.read("XTRA", "1m", { start: T0 + 1000 * 60_000, end: T0 + 1999 * 60_000 })
            expect(window.length).toBe(1000)
            expect(window.extras[1]).toEqual(data.extras[1]!.slice(1000, 2000))
          }))
      }),
    60_000
  )

  it.live(
    "an interrupted read or merge leaves its connection usable and changes nothing",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        yield* useStore(url, (store) =>
          Effect.gen(function*() {
            yield* store.write("INT", "1m", minutes(0, 400_000))
            for (const delay of [5, 20, 60, 150]) {
              const v0 = yield* store.version("INT", "1m")
              const reading = yield* Effect.fork(store.read("INT", "1m"))
              yield* Effect.sleep(`${delay} millis`)
              yield* Fiber.interrupt(reading)
              const merging = yield* Effect.fork(store.merge("INT", "1m", minutes(100_000, 300_000, 5)))
              yield* Effect.sleep(`${delay} millis`)
              const exit = yield* Fiber.interrupt(merging)
              // a merge may have committed before the interruption reached it; otherwise nothing changed
              if (Exit.isFailure(exit)) expect(yield* store.version("INT", "1m")).toBe(v0)
              yield* store.write("INT", "1m", minutes(0, 400_000))
            }
            const back = yield* store.read("INT", "1m")
            expect(back.length).toBe(400_000)
            expect(yield* Effect.promise(() => counts(url, "INT"))).toEqual({ barCount: 400_000, rows: 400_000 })
          }))
      }),
    120_000
  )

  it.live("refuses a database whose schema is newer than this code, and says so", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => cluster.createDatabase())
      yield* useStore(url, (store) => store.merge("NEW", "1d", minutes(0, 1)))
      yield* Effect.promise(() =>
        cluster.query(dbName(url), `insert into effect_sql_migrations (migration_id, name) values (2, 'future')`)
      )
      const e = yield* Effect.flip(useStore(url, (store) => store.list()))
      expect(e._tag).toBe("DatabaseError")
      expect(e.message).toMatch(/schema version 2, newer than this ktrdr knows \(1\)/)
      expect(e.message).toContain(describeDatabase(url))
    }))

  it.live("an unreachable database is one line naming host, port and database, never the password", () =>
    Effect.gen(function*() {
      const dead = `postgres://ktrdr:hunter2secret@127.0.0.1:${cluster.port + 1}/marketdata`
      const e = yield* Effect.flip(useStore(dead, (store) => store.list()))
      expect(e._tag).toBe("DatabaseError")
      expect(e.message).toContain(`127.0.0.1:${cluster.port + 1}/marketdata`)
      expect(e.message).not.toContain("hunter2")
      expect(e.message.split("\n")).toHaveLength(1)
      // reachable server, missing database: named too
      const missing = cluster.url("no_such_db")
      const e2 = yield* Effect.flip(useStore(missing, (store) => store.list()))
      expect(e2.message).toMatch(/no_such_db/)
    }))

  it.live("a window read is an index range scan on the key, not a sequential scan", () =>
    Effect.gen(function*() {
      const url = yield* Effect.promise(() => cluster.createDatabase())
      yield* useStore(url, (store) =>
        Effect.gen(function*() {
          yield* store.merge("IDX", "1m", minutes(0, 100_000))
          yield* store.merge("OTHER", "1m", minutes(0, 50_000))
        }))
      const db = dbName(url)
      yield* Effect.promise(() => cluster.query(db, "analyze"))
      const id = (yield* Effect.promise(() => cluster.query(db, `select id from ktrdr_series where series = 'IDX'`)))
        .rows[0].id
      // the read's bounds as the store sets them (settings its query reads back), then the plan of that query
      const bounds = [String(id), String(T0 + 40_000 * 60_000), String(T0 + 41_000 * 60_000)]
      const results = (yield* Effect.promise(() =>
        cluster.query(
          db,
          `select set_config('ktrdr.series', '${bounds[0]}', false), set_config('ktrdr.lo', '${bounds[1]}', false),
             set_config('ktrdr.hi', '${bounds[2]}', false); explain ${readQuery(false)}`
        )
      )) as unknown as ReadonlyArray<{ readonly rows: ReadonlyArray<Record<string, unknown>> }>
      const plan = results[1]!.rows.map((r) => r["QUERY PLAN"] as string).join("\n")
      expect(plan).toMatch(/Index (Only )?Scan using ktrdr_bars_pkey|Bitmap Index Scan on ktrdr_bars_pkey/)
      expect(plan).not.toMatch(/Seq Scan on ktrdr_bars/)
    }))

  it.live(
    "two processes on one database: writes, versions and lists agree; migrations run once",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        // checked before the two writers start: checked inside one of them, the other's first merge could land first
        expect(yield* useStore(url, (a) => a.version("SHARED", "1h"))).toBeUndefined()
        yield* Effect.all([
          useStore(url, (a) =>
            Effect.gen(function*() {
              yield* Effect.all(
                Array.from({ length: 8 }, (_, k) => a.merge("SHARED", "1h", minutes(k * 100, 150))),
                { concurrency: "unbounded" }
              )
              return yield* a.version("SHARED", "1h")
            })),
          useStore(url, (b) =>
            Effect.all(
              Array.from({ length: 8 }, (_, k) => b.merge("SHARED", "1h", minutes(k * 100 + 50, 150))),
              { concurrency: "unbounded" }
            ))
        ], { concurrency: 2 })
        yield* useStore(url, (c) =>
          Effect.gen(function*() {
            const r = yield* c.range("SHARED", "1h")
            expect(r).toEqual({ first: T0, last: T0 + (7 * 100 + 50 + 149) * 60_000 })
            expect(yield* Effect.promise(() => counts(url, "SHARED"))).toEqual({ barCount: 900, rows: 900 })
            const v1 = yield* c.version("SHARED", "1h")
            yield* c.merge("SHARED", "1h", minutes(10_000, 1))
            expect(yield* c.version("SHARED", "1h")).not.toBe(v1)
          }))
        const migrations = yield* Effect.promise(() =>
          cluster.query(dbName(url), "select * from effect_sql_migrations")
        )
        expect(migrations.rowCount).toBe(1)
      }),
    60_000
  )
})
