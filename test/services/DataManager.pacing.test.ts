/**
 * Issue 11, item 4 end to end: DataManager → IbClient → PaceGate → real @stoqey/ib over TCP → the
 * simulator in strict pacing mode, time-scaled; violations as the simulator's control API reports them.
 */
import { describe, expect, it } from "@effect/vitest"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { BarStore } from "../../src/layers/BarStore.ts"
import { IbConfig } from "../../src/layers/Config.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { IbClient, IbClientLive } from "../../src/layers/IbClient.ts"
import { IbConnectionLive } from "../../src/layers/IbConnection.ts"
import { PaceGate } from "../../src/layers/PaceGate.ts"
import { DataManager, DataManagerLive } from "../../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import { startControlApi } from "../../src/sim/controlApi.ts"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { ibLayer, startSim, testSettings } from "../layers/support.ts"

/** Every instrument the simulator knows: nine stocks, eight forex pairs, three indices. */
const SERIES = [
  "AAPL",
  "MSFT",
  "IBM",
  "SPY",
  "QQQ",
  "TSLA",
  "AMZN",
  "NVDA",
  "GOOGL",
  "EURUSD",
  "GBPUSD",
  "USDJPY",
  "USDCHF",
  "AUDUSD",
  "USDCAD",
  "EURGBP",
  "EURJPY",
  "SPX",
  "NDX",
  "VIX"
]
/** IB's 10-minute window becomes 6 s: four days of 30-second bars for 20 series is ~110 requests. */
const SCALE = 100
const DAY = 86_400_000

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-pace-e2e-"))),
  (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
)

const Stats = Schema.Struct({
  pacingViolations: Schema.Number,
  requests: Schema.Struct({ historical: Schema.Number })
})

/** The simulator's /stats over its HTTP control API, as an operator would read it. */
const controlStats = (sim: GatewaySimulator) =>
  Effect.gen(function*() {
    const port = yield* startControlApi(sim, 0)
    return Effect.promise(() => fetch(`http://127.0.0.1:${port}/stats`).then((r) => r.json())).pipe(
      Effect.flatMap(Schema.decodeUnknown(Stats)),
      Effect.orDie
    )
  })

describe("pacing end to end", () => {
  it.live("20 concurrent full loads of 30-second bars: every load completes, the gateway sees 0 violations", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ pacing: "strict", timeScale: SCALE })
      const stats = yield* controlStats(sim)
      const dataDir = yield* tempDir
      const ib = ibLayer(testSettings(sim, { pacingTimeScale: SCALE, requestTimeout: Duration.seconds(30) }))
      const ctx = yield* Layer.build(
        DataManagerLive.pipe(
          Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
          Layer.provideMerge(ib),
          Layer.provideMerge(DataConfig.make({ dataDir }))
        )
      )
      const dm = yield* Effect.provide(DataManager, ctx)
      const now = Date.now()
      const results = yield* Effect.forEach(
        SERIES,
        (symbol) => dm.load({ symbol, timeframe: "30s", mode: "full", start: now - 4 * DAY, end: now }),
        { concurrency: "unbounded" }
      )
      const seen = yield* stats
      // Enough requests to fill IB's 10-minute window (60) more than once: the long rule is exercised.
      expect(seen.requests.historical).toBeGreaterThan(60)
      expect(seen.pacingViolations).toBe(0)
      for (const r of results) expect(r).toMatchObject({ segmentsFailed: 0, gapsLeft: 0 })
      expect(results.reduce((n, r) => n + r.ibRequests, 0)).toBe(seen.requests.historical)
    }).pipe(Effect.scoped))

  it.live("a restarted process does not repeat its last request within 15 s", () =>
    Effect.gen(function*() {
      const scale = 10 // identical window 1.5 s
      const sim = yield* startSim({ pacing: "strict", timeScale: scale })
      const stats = yield* controlStats(sim)
      const dataDir = yield* tempDir
      // The owning process's graph: IbConnection + the persistent PaceGate (state in the data dir) + IbClient.
      const processGraph = IbClientLive.pipe(
        Layer.provideMerge(Layer.merge(IbConnectionLive, PaceGate.persistent)),
        Layer.provide(IbConfig.make(testSettings(sim, { pacingTimeScale: scale }))),
        Layer.provide(DataConfig.make({ dataDir })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
      const request = {
        contract: { symbol: "AAPL", secType: "STK" as const, exchange: "SMART", currency: "USD" },
        end: Date.UTC(2025, 0, 3, 21),
        duration: "1800 S",
        barSize: "30 secs",
        whatToShow: "TRADES" as const,
        useRTH: true
      }
      const fetchOnce = Effect.flatMap(IbClient, (ib) => ib.historicalBars(request))
      // Two runs of "the process", one right after the other, each asking for the same bars.
      for (let run = 0; run < 2; run++) {
        const bars = yield* fetchOnce.pipe(Effect.provide(processGraph), Effect.scoped)
        expect(bars.length).toBe(60)
      }
      expect(yield* stats).toMatchObject({ pacingViolations: 0, requests: { historical: 2 } })
    }).pipe(Effect.scoped))
})
