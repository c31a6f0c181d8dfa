/** The body of the `sim` command (src/sim/command.ts): the simulator and its control API until interrupted. */
import { Console, Effect, Logger, LogLevel, Option } from "effect"
import type { SimOptions } from "./simOptions.ts"
import { startControlApi } from "./controlApi.ts"
import { Simulator } from "./Simulator.ts"

export const runSim = (o: SimOptions) =>
  Effect.gen(function*() {
    if (o.timeScale <= 0) return yield* Effect.fail(new Error("--time-scale must be positive"))
    if (o.port < 0 || o.port > 65535 || o.controlPort < 0 || o.controlPort > 65535) {
      return yield* Effect.fail(new Error("ports must be 0–65535"))
    }
    if (!Number.isInteger(o.serverVersion) || o.serverVersion < 100 || o.serverVersion > 193) {
      return yield* Effect.fail(new Error("--server-version must be 100–193"))
    }
    if (!(o.clockSpeed > 0)) return yield* Effect.fail(new Error("--clock-speed must be positive"))
    const clockStart = Option.map(o.clock, (iso) => Date.parse(iso))
    if (Option.isSome(clockStart) && Number.isNaN(clockStart.value)) {
      return yield* Effect.fail(new Error("--clock must be an ISO date-time, e.g. 2024-03-05T14:30:00Z"))
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
      serverVersion: o.serverVersion,
      clockSpeed: o.clockSpeed,
      ...(Option.isSome(clockStart) ? { clockStart: clockStart.value } : {}),
      ...(log ? { log } : {})
    })
    const control = yield* startControlApi(gateway, o.controlPort)
    yield* Console.log(
      `ktrdr sim: TWS API v${o.serverVersion} on 127.0.0.1:${gateway.port}, control API on ` +
        `http://127.0.0.1:${control} (clients v100..${o.serverVersion}; pacing ${o.pacing}, ` +
        `time-scale ${o.timeScale}, latency ${o.latencyMs} ms + ${o.perBarUs} µs/bar` +
        `${Option.isSome(o.clock) ? `, clock from ${o.clock.value} ×${o.clockSpeed}` : ""})`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(o.verbose ? LogLevel.Info : LogLevel.Warning))
