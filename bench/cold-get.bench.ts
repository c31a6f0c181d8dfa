/**
 * Cold GET /api/v1/data/BIG/1m of a 1,000,000-bar series (the hot cache is off, so every request reads, parses and
 * encodes the file) through the whole server, against its floor: reading the same file's bytes (fs.readFile) plus a
 * bare node:http server sending the same response bytes to the same client. Goal: ≤ 4×. Time to first byte is
 * printed too: the answer streams while it is written. A resident-memory figure follows: the heap and ArrayBuffer
 * growth of holding the parsed 1M-bar series (goal ≤ 64 MB), measured after forced GCs in a fresh process.
 * Rounds alternate ktrdr and the baseline (shared, noisy machine); medians.
 *
 * What moved the figure (same machine, quiet): 5.0–5.5× (~790 ms, first byte at ~275) → ~3.3× (~410 ms, first byte at
 * ~170): numbers written through int32 fast paths with a digit-pair table (1M OHLCV rows ~250 → ~95 ms), writers that
 * take a column and a row instead of a boxed double, the CSV's plain rows parsed in one tight loop (~170 → ~90 ms),
 * the next file chunk read while this one is parsed, and sockets that buffer 1 MB before a streamed answer waits for
 * "drain" (it waited after every ~200 KB piece).
 */
import { spawnSync } from "node:child_process"
import { createServer, request } from "node:http"
import { fileURLToPath } from "node:url"
import { mkdtemp, readFile, rm } from "node:fs/promises"
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
import { makeSeries } from "./barSeriesFixture.ts"
import { median, type Bench } from "./harness.ts"

const N = 1_000_000
const ROUNDS = 5

/** Time to first byte and to the last one, and the body, of one GET over a fresh connection. */
const timedGet = (port: number, path: string) =>
  new Promise<{ ttfb: number; total: number; body: Buffer }>((resolve, reject) => {
    const t0 = performance.now()
    let ttfb = 0
    const parts: Array<Buffer> = []
    const req = request({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      res.on("data", (c: Buffer) => {
        if (parts.length === 0) ttfb = performance.now() - t0
        parts.push(c)
      })
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
        else resolve({ ttfb, total: performance.now() - t0, body: Buffer.concat(parts) })
      })
    })
    req.on("error", reject)
    req.end()
  })

/** Heap + ArrayBuffer growth of holding the parsed series, in a fresh process (bench/residentProbe.ts). */
const resident = (dataDir: string) =>
  Effect.sync(() => {
    const probe = fileURLToPath(new URL("./residentProbe.ts", import.meta.url))
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", probe, dataDir, "BIG", "1m"], {
      encoding: "utf8"
    })
    const out = JSON.parse(r.stdout.trim()) as { bars: number; bytes: number }
    if (out.bars !== N) throw new Error(`probe read ${out.bars} bars`)
    return out.bytes / 1_048_576
  })

const bench: Bench = {
  name: "cold-get: GET of a 1M-bar series with no cache vs reading the file + bare node:http sending the same bytes",
  run: () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-bench-cold-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const core = coreLayer({
        ibHost: false,
        lazyGateway: true, // GET /data never asks the gateway: no session is opened
        ibConfig: IbConfig.make({ host: "127.0.0.1", port: 9, clientId: 1, requestTimeout: Duration.seconds(5) }),
        dataConfig: DataConfig.make({ dataDir })
      })
      const ctx = yield* Layer.build(
        serverLayer().pipe(Layer.provideMerge(core), Layer.provide(ApiConfig.make({ port: 0, barCacheBytes: 0 })))
      )
      const store = yield* Effect.provide(BarStore, ctx)
      yield* store.write("BIG", "1m", makeSeries(N))
      const file = join(dataDir, "BIG_1m.csv")
      const residentMb = yield* resident(dataDir)
      const address = (yield* Effect.provide(HttpServer.HttpServer, ctx)).address
      const port = address._tag === "TcpAddress" ? address.port : 0
      const path = "/api/v1/data/BIG/1m"

      const first = yield* Effect.promise(() => timedGet(port, path))
      const body = first.body
      const bare = createServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length })
        res.end(body)
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void bare.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => bare.close())
      )
      const barePort = (bare.address() as { port: number }).port

      const ktrdr: Array<{ ttfb: number; total: number }> = []
      const floor: Array<{ read: number; send: number }> = []
      for (let r = 0; r < ROUNDS; r++) {
        const k = yield* Effect.promise(() => timedGet(port, path))
        if (!k.body.equals(body)) return yield* Effect.die(new Error("a cold answer differed from the first one"))
        ktrdr.push(k)
        const t0 = performance.now()
        yield* Effect.promise(() => readFile(file))
        const read = performance.now() - t0
        const b = yield* Effect.promise(() => timedGet(barePort, "/"))
        floor.push({ read, send: b.total })
      }
      const total = median(ktrdr.map((k) => k.total))
      const base = median(floor.map((f) => f.read + f.send))

      const ratio = total / base
      return {
        name: bench.name,
        figure: {
          label: `cold GET, ${(body.length / 1e6).toFixed(1)} MB JSON (median of ${ROUNDS})`,
          value: total,
          unit: "ms"
        },
        baseline: { label: "fs.readFile + bare node:http sending the same bytes (median)", value: base, unit: "ms" },
        ratio,
        goal: "≤ 4; resident 1M bars ≤ 64 MB",
        pass: ratio <= 4 && residentMb <= 64,
        notes: [
          `time to first byte: median ${median(ktrdr.map((k) => k.ttfb)).toFixed(0)} ms of ${total.toFixed(0)} ms`,
          `floor parts: read ${median(floor.map((f) => f.read)).toFixed(0)} ms, send ${
            median(floor.map((f) => f.send)).toFixed(0)
          } ms`,
          `resident memory of 1M parsed bars (heap + ArrayBuffers after GC, fresh process): ${
            residentMb.toFixed(1)
          } MB (goal ≤ 64)`
        ]
      }
    }).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.Warning)), Effect.runPromise)
}

export default bench
