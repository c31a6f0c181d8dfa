/**
 * A latency-bound backfill: one year of 1-minute bars through the DataManager against the simulator
 * answering every request after 200 ms. Figure: wall time; baseline: segments × latency ÷ segments in
 * flight (the floor set by latency alone). Goals: ratio ≤ 1.1, and requests ÷ planner minimum = 1.0.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { missingIntervals } from "../src/domain/GapAnalysis.ts"
import { planSegments } from "../src/domain/SegmentPlanner.ts"
import { timeframeOf } from "../src/domain/Timeframe.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { IbConfig } from "../src/layers/Config.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { IbClientLive } from "../src/layers/IbClient.ts"
import { IbConnectionLive } from "../src/layers/IbConnection.ts"
import { PaceGate } from "../src/layers/PaceGate.ts"
import { DataManager, DataManagerLive } from "../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../src/services/SymbolCatalog.ts"
import { Simulator } from "../src/sim/Simulator.ts"
import type { Bench } from "./harness.ts"

const LATENCY_MS = Number(process.env.BENCH_LATENCY ?? 200)
const IN_FLIGHT = 4
const START = Date.parse("2024-01-01T00:00:00Z")
const END = Date.parse("2025-01-01T00:00:00Z")

const bench: Bench = {
  name: "backfill: one year of 1-min bars at 200 ms per request vs the latency floor",
  run: () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ pacing: "strict", latencyMs: LATENCY_MS })
      const dataDir = yield* Effect.acquireRelease(Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-bench-"))), (d) =>
        Effect.promise(() => rm(d, { recursive: true, force: true })))
      const ib = IbClientLive.pipe(
        Layer.provideMerge(Layer.merge(IbConnectionLive, PaceGate.layer)),
        Layer.provide(IbConfig.make({ host: "127.0.0.1", port: sim.port, clientId: 1, maxInFlight: IN_FLIGHT }))
      )
      const layer = DataManagerLive.pipe(
        Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
        Layer.provideMerge(ib),
        Layer.provideMerge(DataConfig.make({ dataDir, segmentsInFlight: IN_FLIGHT, checkpointEverySegments: 50 }))
      )
      const dm = yield* Effect.provide(DataManager, yield* Layer.build(layer))
      // Resolve the symbol and head timestamp first, so only segment requests are timed.
      yield* dm.load({ symbol: "AAPL", timeframe: "1m", mode: "full", start: END - 86_400_000 * 3, end: END })
      const before = sim.stats().requests.historical
      const t0 = performance.now()
      const r = yield* dm.load({ symbol: "AAPL", timeframe: "1m", mode: "full", start: START, end: END })
      const wall = performance.now() - t0
      const requests = sim.stats().requests.historical - before
      const tf = timeframeOf("1m")
      const stored = r.totalBars
      // The planner's minimum for the same missing bars, computed independently of the load.
      const missing = missingIntervals({
        stored: [],
        calendarId: "us-equity",
        timeframe: tf,
        hours: "regular",
        from: START,
        to: END,
        now: Date.now()
      })
      const minimum =
        planSegments({ calendarId: "us-equity", timeframe: tf, useRTH: true, missing, now: Date.now() }).length
      const floor = (r.segmentsPlanned * LATENCY_MS) / IN_FLIGHT
      return {
        name: bench.name,
        figure: {
          label: `wall time for ${r.segmentsPlanned} segments (${stored} bars stored)`,
          value: wall,
          unit: "ms"
        },
        baseline: { label: `segments × ${LATENCY_MS} ms ÷ ${IN_FLIGHT} in flight`, value: floor, unit: "ms" },
        ratio: wall / floor,
        goal: "≤ 1.1, requests ÷ minimum = 1.0",
        pass: wall / floor <= 1.1 && requests === minimum - 2,
        notes: [
          `IB requests ${requests}; planner minimum for the year ${minimum} ` +
          "(the 2 sessions loaded beforehand are not refetched)",
          `gaps left ${r.gapsLeft}, checkpoints ${r.checkpoints}`
        ]
      }
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning), Effect.runPromise)
}
export default bench
