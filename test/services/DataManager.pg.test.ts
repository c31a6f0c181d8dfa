/**
 * A load into the PostgreSQL store while the database keeps cutting the store's connections (pg_terminate_backend,
 * the server side of "database lost"), or while the whole server restarts: checkpoints fail, are retried on the
 * load's schedule, and the load ends with exactly the bars an undisturbed load into the CSV store stores, the series'
 * counts agreeing with its rows. Real PostgreSQL, real simulator over TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Logger, LogLevel, Redacted, Schedule } from "effect"
import { barsOf } from "../../src/domain/barSeries.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { describeDatabase } from "../../src/layers/DatabaseConfig.ts"
import { pgBarStoreLayer } from "../../src/layers/PgBarStore.ts"
import { pgDatabase } from "../../src/layers/pgDatabase.ts"
import { DataManager, DataManagerLive } from "../../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import { ibLayer, startSim, testSettings } from "../layers/support.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"
import { tempDir } from "../http/support.ts"

let cluster: PgCluster
beforeAll(async () => {
  cluster = await startPgCluster()
}, 60_000)
afterAll(() => cluster?.stop())

const ET = (s: string) => Date.parse(`${s}-05:00`)
const request = {
  symbol: "AAPL",
  timeframe: "1m",
  mode: "full" as const,
  start: ET("2025-02-03T00:00:00"),
  end: ET("2025-02-15T00:00:00")
}

const graph = <E>(store: Layer.Layer<BarStore, E, DataConfig>, latencyMs: number) =>
  Effect.gen(function*() {
    const sim = yield* startSim({ pacing: "off", latencyMs })
    const dataDir = yield* tempDir("ktrdr-dm-pg-")
    const layer = DataManagerLive.pipe(
      Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, store)),
      Layer.provideMerge(ibLayer(testSettings(sim, { largeBarSpacing: Duration.millis(0) }))),
      Layer.provideMerge(DataConfig.make({ dataDir, checkpointEverySegments: 1, segmentsInFlight: 1 })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Error))
    )
    const ctx = yield* Layer.build(layer)
    return { dm: yield* Effect.provide(DataManager, ctx), store: yield* Effect.provide(BarStore, ctx) }
  })

/** The bars of the same load into the CSV store, with nothing disturbed: what every disturbed load must end with. */
const undisturbed = Effect.gen(function*() {
  const calm = yield* graph(BarStore.layer, 0)
  yield* calm.dm.load(request)
  return barsOf(yield* calm.store.read("AAPL", "1m"))
})

/** A DataManager on a fresh PostgreSQL database (slow answers: the load lasts long enough to be disturbed). */
const onPostgres = Effect.gen(function*() {
  const url = yield* Effect.promise(() => cluster.createDatabase())
  const pgStore = pgBarStoreLayer(describeDatabase(url)).pipe(Layer.provide(pgDatabase(Redacted.make(url))))
  return { db: url.slice(url.lastIndexOf("/") + 1), ...(yield* graph(pgStore, 120)) }
})

describe("DataManager on PostgreSQL", () => {
  it.live(
    "connections cut during a load: checkpoints are retried and the stored bars equal an undisturbed load's",
    () =>
      Effect.gen(function*() {
        const expected = yield* undisturbed
        const { db, dm, store } = yield* onPostgres
        let cuts = 0
        const cutter = yield* Effect.promise(async () => {
          const r = await cluster.query(
            "postgres",
            "select pg_terminate_backend(pid) as k from pg_stat_activity " +
              "where datname = $1 and pid <> pg_backend_pid()",
            [db]
          )
          cuts += r.rowCount ?? 0
        }).pipe(Effect.zipRight(Effect.sleep("150 millis")), Effect.forever, Effect.fork)
        const r = yield* dm.load(request)
        yield* Fiber.interrupt(cutter)
        expect(cuts).toBeGreaterThan(0)
        expect(r.gapsLeft).toBe(0)
        // The cutter's last kill may have hit an idle pooled connection, which fails its next query once (node-postgres
        // hands it out before noticing): the test's own read retries that, as the load's reads do.
        const stored = yield* store.read("AAPL", "1m").pipe(
          Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 3, while: (e) => e._tag === "StorageError" })
        )
        expect(barsOf(stored)).toEqual(expected)
      }).pipe(Effect.scoped),
    180_000
  )

  it.live(
    "the server restarts during a load: the load waits it out, ends with an undisturbed load's bars, none half-written",
    () =>
      Effect.gen(function*() {
        const expected = yield* undisturbed
        const { db, dm, store } = yield* onPostgres
        const load = yield* Effect.fork(dm.load(request))
        // mid-load: once the first checkpoint is stored, and while the load is still running
        yield* store.range("AAPL", "1m").pipe(
          Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 400, while: (e) => e._tag === "NotFound" })
        )
        expect(load.unsafePoll()).toBeNull()
        yield* Effect.promise(() => cluster.restart(1500))
        const r = yield* Fiber.join(load)
        expect(r.gapsLeft).toBe(0)
        const stored = yield* store.read("AAPL", "1m").pipe(
          Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 3, while: (e) => e._tag === "StorageError" })
        )
        expect(barsOf(stored)).toEqual(expected)
        const check = yield* Effect.promise(() =>
          cluster.query(
            db,
            `select s.bar_count, (select count(*) from ktrdr_bars b where b.series_id = s.id) as rows
             from ktrdr_series s where s.series = 'AAPL'`
          )
        )
        expect(Number(check.rows[0].bar_count)).toBe(expected.length)
        expect(Number(check.rows[0].rows)).toBe(expected.length)
      }).pipe(Effect.scoped),
    180_000
  )
})
