/** The body of the `sim` command (src/sim/command.ts): the simulator and its control API until interrupted. */
import { Console, Effect, Logger, LogLevel } from "effect"
import type { SimOptions } from "./simOptions.ts"
import { startControlApi } from "./controlApi.ts"
import { Simulator } from "./Simulator.ts"

export const runSim = (o: SimOptions) =>
  Effect.gen(function*() {
    if (o.timeScale <= 0) return yield* Effect.fail(new Error("--time-scale must be positive"))
    if (o.port < 0 || o.port > 65535 || o.controlPort < 0 || o.controlPort > 65535) {
      return yield* Effect.fail(new Error("ports must be 0–65535"))
    }
    const runtime = yield* Effect.runtime<never>()
    const log = o.verbose
      ? (line: string) => void Effect.runFork(Effect.logInfo(line).pipe(Effect.provide(runtime)))
      : undefined
    const gateway = yield* Simulator.make({
      port: o.port,
      pacing: o.pacing,
      timeScale: o.timeScale,
      latencyMs: o.latencyMs,
      perBarUs: o.perBarUs,
      ...(log ? { log } : {})
    })
    const control = yield* startControlApi(gateway, o.controlPort)
    yield* Console.log(
      `ktrdr sim: TWS API v193 on 127.0.0.1:${gateway.port}, control API on http://127.0.0.1:${control} ` +
        `(pacing ${o.pacing}, time-scale ${o.timeScale}, latency ${o.latencyMs} ms + ${o.perBarUs} µs/bar)`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(o.verbose ? LogLevel.Info : LogLevel.Warning))
