/**
 * PaceGate: a burst of N small-bar historical requests through IbClient under the simulator's strict,
 * time-scaled pacing. Figure: wall time; baseline: the theoretical pacing floor for the same burst
 * (the earliest time IB's rules allow the last request). Goal: ratio ≤ 1.05 with 0 violations.
 */
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { IbConfig } from "../src/layers/Config.ts"
import { IbClient, IbClientLive } from "../src/layers/IbClient.ts"
import { IbConnectionLive } from "../src/layers/IbConnection.ts"
import { PaceGate } from "../src/layers/PaceGate.ts"
import { Simulator } from "../src/sim/Simulator.ts"
import { LONG_LIMIT, LONG_WINDOW_MS, BURST_LIMIT, BURST_WINDOW_MS } from "../src/sim/pacing.ts"
import type { Bench } from "./harness.ts"

const N = 130
/**
 * Time scale 20: a 30 s "10-minute" window, long enough that the gate's fixed 500 ms safety margin is what it is at
 * scale 1 — small.
 */
const SCALE = 20
const CONTRACTS = [265598, 272093, 8314]
const DAYS = [1, 2, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 27, 28, 29]

/** Earliest instant IB's rules allow the last of N distinct requests spread over the contracts. */
const pacingFloorMs = (n: number, contracts: number): number => {
  const windows = (Math.ceil(n / LONG_LIMIT) - 1) * (LONG_WINDOW_MS / SCALE)
  const perContract = Math.ceil(n / contracts)
  const bursts = (Math.ceil(perContract / (BURST_LIMIT - 1)) - 1) * (BURST_WINDOW_MS / SCALE)
  return Math.max(windows, bursts)
}

const bench: Bench = {
  name: "pacegate: burst of small-bar requests vs the theoretical pacing floor",
  run: () =>
    Effect.gen(function*() {
      const sim = yield* Simulator.make({ pacing: "strict", timeScale: SCALE })
      const config = IbConfig.make({
        host: "127.0.0.1",
        port: sim.port,
        clientId: 1,
        pacingTimeScale: SCALE,
        maxInFlight: 4,
        requestTimeout: Duration.seconds(120)
      })
      const ctx = yield* Layer.build(
        IbClientLive.pipe(Layer.provideMerge(Layer.merge(IbConnectionLive, PaceGate.layer)), Layer.provide(config))
      )
      const ib = yield* Effect.provide(IbClient, ctx)
      const gate = yield* Effect.provide(PaceGate, ctx)
      yield* ib.currentTime
      const requests = Array.from({ length: N }, (_, i) => ({
        contract: { conId: CONTRACTS[i % CONTRACTS.length]!, exchange: "SMART" },
        end: Date.UTC(2025, 4, DAYS[i % DAYS.length]!, 14 + (Math.floor(i / DAYS.length) % 10), 0),
        duration: "1800 S",
        barSize: "30 secs",
        whatToShow: "TRADES" as const,
        useRTH: false
      }))
      const t0 = performance.now()
      yield* Effect.forEach(requests, (r) => ib.historicalBars(r), { concurrency: "unbounded" })
      const wall = performance.now() - t0
      const floor = pacingFloorMs(N, CONTRACTS.length)
      const violations = sim.stats().pacingViolations
      const stats = yield* gate.stats
      return {
        name: bench.name,
        figure: { label: `wall time for ${N} requests (time scale ${SCALE})`, value: wall, unit: "ms" },
        baseline: { label: "theoretical pacing floor", value: floor, unit: "ms" },
        ratio: wall / floor,
        goal: "≤ 1.05, 0 violations",
        pass: wall / floor <= 1.05 && violations === 0,
        notes: [
          `simulator pacing violations: ${violations}`,
          `gate waits: ${stats.waits}, total wait ${Math.round(stats.totalWaitMs)} ms`
        ]
      }
    }).pipe(Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Warning), Effect.runPromise)
}
export default bench
