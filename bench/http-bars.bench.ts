/**
 * GET /api/v1/data/AAPL/1h (one year of hourly bars, answered from the hot-series cache) through the whole server —
 * request middleware (CORS, ids, logs), auth, decoding, symbol validation, the file-version check — against
 * @effect/platform's own Node server answering every request with the same bytes (no router, middleware or
 * handler: the floor of the stack we build on), and the same GET's latency while four 1-minute backfills run.
 *
 * Processes: this one hosts the ktrdr server (core graph + serverLayer, as `ktrdr serve` builds it) and the
 * baseline servers; the gateway simulator runs in its own process (the IB gateway is never inside the server), and
 * autocannon in another, so neither load generator nor gateway takes the measured event loop's time.
 * - Throughput: autocannon, 10 connections, rounds alternating ktrdr and the platform server (A/B/A/B: drift on a
 *   shared machine hits both alike); figure: median ktrdr req/s ÷ median platform req/s, goal ≥ 0.8. Bare node:http
 *   on the same bytes and ktrdr's /health are measured after, for the notes. The server process's CPU time per
 *   request is printed too: it is far less sensitive than req/s to other load on a shared machine.
 * - Latency: a chart-like fixed load (4 connections, 100 req/s overall) in rounds of [idle; MSFT/TSLA/AMZN/NVDA
 *   1-min backfills started through POST /data/load?async_mode=true half a second into the measurement (their
 *   start — gap analysis and segment planning — is part of "backfills running"); the same load again while they
 *   fetch in steady state; then cancelled]. The simulator answers after BENCH_LATENCY ms. Figure: median p99 of
 *   the runs the backfills started in ÷ median idle p99 (goal ≤ 1.5); the steady-state ratio is printed too.
 * Env: BENCH_SECONDS (per measurement, default 4), BENCH_ROUNDS (throughput A/B pairs, default 5),
 * BENCH_LATENCY (simulator ms per answer, default 200), BENCH_LATENCY_ROUNDS (default 3; 0 skips that part).
 */
import { spawn, type ChildProcess } from "node:child_process"
import { createServer } from "node:http"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Duration, Effect, Fiber, Layer, Logger, LogLevel } from "effect"
import { serverLayer } from "../src/http/Server.ts"
import { ApiConfig } from "../src/layers/ApiConfig.ts"
import { IbConfig } from "../src/layers/Config.ts"
import { coreLayer } from "../src/app/Core.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { median, type Bench } from "./harness.ts"

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const LATENCY_MS = Number(process.env.BENCH_LATENCY ?? 200)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const LATENCY_ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 3)
const BACKFILLS = ["MSFT", "TSLA", "AMZN", "NVDA"]
const CHART_RATE = 100

const require = createRequire(import.meta.url)
const AUTOCANNON = require.resolve("autocannon/autocannon.js")
const SIM_MAIN = fileURLToPath(new URL("../src/sim/main.ts", import.meta.url))
const ROOT = fileURLToPath(new URL("..", import.meta.url))

interface Cannon {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly failed: number
  /** CPU time of this process (both servers live here) per request answered. */
  readonly cpuUs: number
}

/** One autocannon run in its own process; its JSON summary. */
const cannon = (url: string, o: { connections: number; rate?: number; seconds?: number }): Promise<Cannon> =>
  new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage()
    const args = [
      AUTOCANNON,
      "-j",
      "-c",
      String(o.connections),
      "-d",
      String(o.seconds ?? SECONDS),
      ...(o.rate ? ["-R", String(o.rate)] : []),
      url
    ]
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] })
    let out = ""
    child.stdout.on("data", (c: Buffer) => (out += c.toString()))
    child.on("error", reject)
    child.on("close", () => {
      try {
        const r = JSON.parse(out)
        const cpu = process.cpuUsage(cpu0)
        resolve({
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          failed: r.errors + r.timeouts + r.non2xx,
          cpuUs: (cpu.user + cpu.system) / Math.max(1, r.requests.total)
        })
      } catch (e) {
        reject(new Error(`autocannon output unreadable: ${out.slice(0, 200)} (${String(e)})`))
      }
    })
  })

/** The simulator in its own process (pacing off: the client's PaceGate still applies IB's rules). */
const startSimProcess = Effect.acquireRelease(
  Effect.async<{ child: ChildProcess; port: number }, Error>((resume) => {
    // `node --import tsx`: one process to stop (the tsx CLI would put a second one under it)
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      SIM_MAIN,
      "--port",
      "0",
      "--control-port",
      "0",
      "--pacing",
      "off",
      "--latency-ms",
      String(LATENCY_MS)
    ], {
      stdio: ["ignore", "pipe", "inherit"],
      cwd: ROOT
    })
    let out = ""
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString()
      const m = /on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resume(Effect.succeed({ child, port: Number(m[1]) }))
    })
    child.on("exit", (code) => resume(Effect.fail(new Error(`simulator exited (${code}): ${out}`))))
  }),
  ({ child }) => Effect.sync(() => void child.kill("SIGTERM"))
)

/**
 * The floor of the HTTP stack we build on: @effect/platform's Node server answering every request with the
 * same bytes (no router, middleware or handler) — how much of the gap to bare node:http is the platform's.
 */
const platformServer = (body: Uint8Array) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(
      HttpServer.serve(Effect.succeed(HttpServerResponse.uint8Array(body, { contentType: "application/json" }))).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provide(Layer.setTracerEnabled(false))
      )
    )
    const a = (yield* Effect.provide(HttpServer.HttpServer, ctx)).address
    return { port: a._tag === "TcpAddress" ? a.port : 0 }
  })

/** The bare baseline: node:http writing the same bytes with the same content type. */
const bareServer = (body: Uint8Array) =>
  Effect.acquireRelease(
    Effect.async<{ server: ReturnType<typeof createServer>; port: number }>((resume) => {
      const server = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length })
        res.end(body)
      })
      server.keepAliveTimeout = 65_000
      server.listen(0, "127.0.0.1", () => {
        const a = server.address()
        resume(Effect.succeed({ server, port: typeof a === "object" && a ? a.port : 0 }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const call = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const res = await fetch(url, init)
    const bytes = new Uint8Array(await res.arrayBuffer())
    return { status: res.status, bytes, json: () => JSON.parse(Buffer.from(bytes).toString("utf8")) }
  })

const postJson = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

/** Starts the four backfills, from 2010 (far more than a measurement lasts); their operation ids. */
const startBackfills = (base: string) =>
  Effect.forEach(BACKFILLS, (symbol) =>
    Effect.map(
      call(
        `${base}/api/v1/data/load?async_mode=true`,
        postJson({ symbol, timeframe: "1m", mode: "backfill", start_date: "2010-01-04", end_date: "2025-01-01" })
      ),
      (r) => r.json().data.operation_id as string
    ))

/** Waits until every backfill is fetching segments. */
const steady = (base: string, ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 400; i++) {
      const infos = yield* operations(base, ids)
      if (infos.every((o) => o.status === "running" && (o.progress.items_processed ?? 0) >= 2)) break
      if (infos.some((o) => o.status !== "running" && o.status !== "pending")) {
        return yield* Effect.die(new Error(`a backfill stopped early: ${JSON.stringify(infos)}`))
      }
      yield* Effect.sleep("50 millis")
    }
  })

const operations = (base: string, ids: ReadonlyArray<string>) =>
  Effect.forEach(
    ids,
    (id) =>
      Effect.map(call(`${base}/api/v1/operations/${id}`), (r) =>
        r.json().data as { status: string; progress: { items_processed?: number } })
  )

/** Cancels and waits until every backfill has stopped (a cancel saves a checkpoint first). */
const stopBackfills = (base: string, ids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    for (const id of ids) yield* call(`${base}/api/v1/operations/${id}`, { method: "DELETE" })
    for (let i = 0; i < 400; i++) {
      if ((yield* operations(base, ids)).every((o) => o.status !== "running" && o.status !== "pending")) return
      yield* Effect.sleep("50 millis")
    }
  })

const bench: Bench = {
  name: "http-bars: GET /data/AAPL/1h (1 year, cached) vs @effect/platform's own server on the same bytes; " +
    "p99 with 4 backfills running vs idle",
  run: () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-bench-http-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const sim = yield* startSimProcess
      const core = coreLayer({
        simulated: true,
        ibConfig: IbConfig.make({
          host: "127.0.0.1",
          port: sim.port,
          clientId: 1,
          requestTimeout: Duration.seconds(60)
        }),
        dataConfig: DataConfig.make({ dataDir })
      })
      const ctx = yield* Layer.build(
        serverLayer().pipe(Layer.provideMerge(core), Layer.provide(ApiConfig.make({ port: 0 })))
      )
      const address = (yield* Effect.provide(HttpServer.HttpServer, ctx)).address
      const base = `http://127.0.0.1:${address._tag === "TcpAddress" ? address.port : 0}`

      // One year of AAPL hourly bars, loaded through the server from the simulator.
      const load = yield* call(
        `${base}/api/v1/data/load`,
        postJson({ symbol: "AAPL", timeframe: "1h", mode: "full", start_date: "2024-01-01", end_date: "2025-01-01" })
      )
      if (load.status !== 200) {
        return yield* Effect.die(new Error(`preload failed: ${Buffer.from(load.bytes).toString()}`))
      }
      const url = `${base}/api/v1/data/AAPL/1h`
      const first = yield* call(url) // fills the hot cache
      const points: number = first.json().data.metadata.point_count
      const stored = (yield* Effect.promise(() =>
        readFile(join(dataDir, "AAPL_1h.csv"), "utf8")
      )).trim().split("\n").length - 1
      if (points !== stored || points < 1500) {
        return yield* Effect.die(new Error(`expected a year of hourly bars, got ${points} (file ${stored})`))
      }
      const bare = yield* bareServer(first.bytes)
      const bareUrl = `http://127.0.0.1:${bare.port}/`
      const platform = yield* platformServer(first.bytes)
      const platformUrl = `http://127.0.0.1:${platform.port}/`

      // Throughput: ktrdr and the platform server alternating; then the bare server and /health for the notes.
      const tp = (u: string) => Effect.promise(() => cannon(u, { connections: 10 }))
      // Warm-up, not counted: the first seconds under load are JIT compilation of the whole path.
      for (const u of [url, platformUrl]) yield* Effect.promise(() => cannon(u, { connections: 10, seconds: 2 }))
      const ours: Array<Cannon> = [], theirs: Array<Cannon> = [], floor: Array<Cannon> = [], plat: Array<Cannon> = []
      for (let i = 0; i < ROUNDS; i++) {
        ours.push(yield* tp(url))
        plat.push(yield* tp(platformUrl))
      }
      for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
        theirs.push(yield* tp(bareUrl))
        floor.push(yield* tp(`${base}/api/v1/health`))
      }
      const platRps = median(plat.map((r) => r.rps))
      const rps = median(ours.map((r) => r.rps)), bareRps = median(theirs.map((r) => r.rps))

      // Latency at a chart-like rate, in rounds of idle / with four backfills.
      const chart = () => Effect.promise(() => cannon(url, { connections: 4, rate: CHART_RATE }))
      const idle: Array<Cannon> = [], busy: Array<Cannon> = [], steadyRuns: Array<Cannon> = []
      let allRunning = true
      for (let i = 0; i < LATENCY_ROUNDS; i++) {
        idle.push(yield* chart())
        const measuring = yield* Effect.fork(chart())
        yield* Effect.sleep("500 millis")
        const ids = yield* startBackfills(base)
        busy.push(yield* Fiber.join(measuring))
        yield* steady(base, ids)
        steadyRuns.push(yield* chart())
        allRunning &&= (yield* operations(base, ids)).every((o) => o.status === "running")
        yield* stopBackfills(base, ids)
        yield* Effect.sleep("300 millis")
      }
      const backfilled = yield* Effect.forEach(BACKFILLS, (s) =>
        Effect.promise(() =>
          readFile(join(dataDir, `${s}_1m.csv`), "utf8").then((t) => t.split("\n").length - 2, () => 0)
        ))

      const measured = idle.length > 0
      const idleP99 = measured
          ? median(idle.map((r) =>
            r.p99
          ))
          : 0,
        busyP99 = measured
          ? median(busy.map((r) => r.p99))
          : 0
      const latencyRatio = measured ? busyP99 / Math.max(idleP99, 1) : 0
      const steadyRatio = measured ? median(steadyRuns.map((r) => r.p99)) / Math.max(idleP99, 1) : 0
      const ratio = rps / platRps
      const ourCpu = median(ours.map((r) => r.cpuUs)), platCpu = median(plat.map((r) => r.cpuUs))
      const failed = [...ours, ...theirs, ...floor, ...plat, ...idle, ...busy, ...steadyRuns].reduce(
        (n, r) => n + r.failed,
        0
      )
      const list = (rs: ReadonlyArray<Cannon>, f: (r: Cannon) => number, unit = "") =>
        rs.map((r) => `${f(r).toFixed(0)}${unit}`).join(", ")
      return {
        name: bench.name,
        figure: {
          label: `ktrdr GET /api/v1/data/AAPL/1h (${points} bars, ${
            (first.bytes.length / 1024).toFixed(0)
          } KiB), 10 connections`,
          value: rps,
          unit: "req/s"
        },
        baseline: {
          label: "@effect/platform's own Node server returning the same bytes (rounds alternating)",
          value: platRps,
          unit: "req/s"
        },
        ratio,
        goal: `≥ 0.8 of the platform's req/s${measured ? "; p99 with 4 backfills ≤ 1.5× idle" : ""}`,
        pass: ratio >= 0.8 && latencyRatio <= 1.5 && failed === 0 && allRunning,
        notes: [
          `req/s per round: ktrdr ${list(ours, (r) => r.rps)}; @effect/platform alone (same bytes) ${
            list(plat, (r) => r.rps)
          }; then bare node:http ${list(theirs, (r) => r.rps)}; ktrdr /health ${list(floor, (r) => r.rps)}`,
          `the platform alone reaches ${(platRps / bareRps).toFixed(2)} of bare node:http; ktrdr ${
            (rps / bareRps).toFixed(2)
          }`,
          `server CPU per request (median): ktrdr bars ${ourCpu.toFixed(0)} µs, platform alone ${
            platCpu.toFixed(0)
          } µs (ratio ${(ourCpu / platCpu).toFixed(2)}), /health ${median(floor.map((r) => r.cpuUs)).toFixed(0)} µs, ` +
          `bare ${median(theirs.map((r) => r.cpuUs)).toFixed(0)} µs`,
          ...(measured ?
            [
              `p99 at ${CHART_RATE} req/s (4 connections): idle ${
                list(idle, (r) => r.p99, " ms")
              }; 4 backfills starting ${list(busy, (r) => r.p99, " ms")} → ` +
              `median ratio ${latencyRatio.toFixed(2)} (goal ≤ 1.5); 4 backfills in steady state ${
                list(steadyRuns, (r) => r.p99, " ms")
              } → ratio ${steadyRatio.toFixed(2)}`,
              `p50: idle ${list(idle, (r) => r.p50, " ms")}; starting ${list(busy, (r) => r.p50, " ms")}; steady ${
                list(steadyRuns, (r) => r.p50, " ms")
              }`,
              `backfills (1m, simulator ${LATENCY_MS} ms per answer) stored ${backfilled.join(" / ")} bars for ${
                BACKFILLS.join(" / ")
              }; all running while measured: ${allRunning}`
            ] :
            ["latency with backfills: skipped (BENCH_LATENCY_ROUNDS=0)"]),
          `failed requests (errors + timeouts + non-2xx): ${failed}`
        ]
      }
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning), Effect.runPromise)
}
export default bench
