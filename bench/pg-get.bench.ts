/**
 * Cold GET /api/v1/data/YEAR/1m — one year of 1-minute bars (525,600: every minute, as a 24-hour market has) —
 * through the whole server with the PostgreSQL store, against the same GET through the same server with the CSV
 * store (the embedded default). The hot-series cache is off in both (`barCacheBytes: 0`), so every request reads the
 * store and encodes the answer; the file and the database pages are warm alike (the OS cache, shared buffers).
 * Two servers in this process, built as `ktrdr serve` builds them (core graph + serverLayer), one per store; rounds
 * alternate them. Goal: PostgreSQL ≤ 1.5× CSV (median of the rounds). The bodies must be identical.
 */
import { request } from "node:http"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { HttpServer } from "@effect/platform"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { coreLayer } from "../src/app/Core.ts"
import { serverLayer } from "../src/http/Server.ts"
import { ApiConfig } from "../src/layers/ApiConfig.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { IbConfig } from "../src/layers/Config.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { DatabaseConfig } from "../src/layers/DatabaseConfig.ts"
import { startPgCluster } from "../test/support/pgCluster.ts"
import { makeSeries } from "./barSeriesFixture.ts"
import { type Bench, median } from "./harness.ts"

const N = 365 * 24 * 60
const ROUNDS = 7
const PATH = "/api/v1/data/YEAR/1m"

/** Total time and body of one GET over a fresh connection. */
const timedGet = (port: number) =>
  new Promise<{ total: number; body: Buffer }>((resolve, reject) => {
    const t0 = performance.now()
    const parts: Array<Buffer> = []
    const req = request({ host: "127.0.0.1", port, path: PATH, agent: false }, (res) => {
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
        else resolve({ total: performance.now() - t0, body: Buffer.concat(parts) })
      })
    })
    req.on("error", reject)
    req.end()
  })

/** A server on an ephemeral port over the store `url` selects (undefined: CSV under dataDir), holding the year. */
const server = (dataDir: string, url: string | undefined) =>
  Effect.gen(function*() {
    const core = coreLayer({
      ibHost: false,
      lazyGateway: true, // GET /data never asks the gateway: no session is opened
      ibConfig: IbConfig.make({ host: "127.0.0.1", port: 9, clientId: 1, requestTimeout: Duration.seconds(5) }),
      dataConfig: DataConfig.make({ dataDir }),
      databaseConfig: DatabaseConfig.make(url)
    })
    const ctx = yield* Layer.build(
      serverLayer().pipe(Layer.provideMerge(core), Layer.provide(ApiConfig.make({ port: 0, barCacheBytes: 0 })))
    )
    yield* Effect.flatMap(Effect.provide(BarStore, ctx), (store) => store.write("YEAR", "1m", makeSeries(N)))
    const address = (yield* Effect.provide(HttpServer.HttpServer, ctx)).address
    return address._tag === "TcpAddress" ? address.port : 0
  })

const bench: Bench = {
  name: "pg-get: cold GET of a 1-year 1-minute series (525,600 bars) from PostgreSQL vs the same from the CSV store",
  run: () =>
    Effect.gen(function*() {
      const cluster = yield* Effect.acquireRelease(Effect.promise(startPgCluster), (c) => Effect.promise(c.stop))
      const url = yield* Effect.promise(() => cluster.createDatabase("bench"))
      const dir = (name: string) =>
        Effect.acquireRelease(
          Effect.promise(() => mkdtemp(join(tmpdir(), `ktrdr-bench-${name}-`))),
          (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
        )
      const csvPort = yield* server(yield* dir("csv"), undefined)
      const pgPort = yield* server(yield* dir("pg"), url)
      yield* Effect.promise(() => cluster.query("bench", "vacuum analyze"))
      const first = yield* Effect.promise(() => timedGet(csvPort))
      const pgFirst = yield* Effect.promise(() => timedGet(pgPort))
      if (!pgFirst.body.equals(first.body)) {
        return yield* Effect.die(new Error("PostgreSQL's answer differs from CSV's"))
      }

      const pg: Array<number> = [], csv: Array<number> = []
      for (let r = 0; r < ROUNDS; r++) {
        pg.push((yield* Effect.promise(() => timedGet(pgPort))).total)
        csv.push((yield* Effect.promise(() => timedGet(csvPort))).total)
      }
      const ours = median(pg), base = median(csv)
      const ratio = ours / base
      return {
        name: bench.name,
        figure: {
          label: `cold GET from PostgreSQL, ${(first.body.length / 1e6).toFixed(1)} MB JSON (median of ${ROUNDS})`,
          value: ours,
          unit: "ms"
        },
        baseline: { label: "the same GET from the CSV store (median)", value: base, unit: "ms" },
        ratio,
        goal: "≤ 1.5",
        pass: ratio <= 1.5,
        notes: [
          `PostgreSQL ${pg.map((x) => x.toFixed(0)).join(" ")} ms; CSV ${csv.map((x) => x.toFixed(0)).join(" ")} ms`
        ]
      }
    }).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.runPromise)
}

export default bench
