/**
 * `npm run sim -- --port 4002 --control-port 4003 [--pacing strict|all|off] [--time-scale K] [--latency-ms N]`
 * Runs the gateway simulator until SIGINT/SIGTERM, listening on 127.0.0.1 only.
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Logger, LogLevel } from "effect"
import { startControlApi } from "./controlApi.ts"
import { Simulator } from "./Simulator.ts"

const port = Options.integer("port").pipe(Options.withDefault(4002), Options.withDescription("TWS API port (0 = any free port)"))
const controlPort = Options.integer("control-port").pipe(Options.withDefault(4003), Options.withDescription("JSON control API port"))
const pacing = Options.choice("pacing", ["strict", "all", "off"]).pipe(
  Options.withDefault("strict" as const),
  Options.withDescription("strict: IB's rules for bars ≤ 30 s; all: for every bar size; off")
)
const timeScale = Options.float("time-scale").pipe(Options.withDefault(1), Options.withDescription("shrink pacing windows and latencies by this factor"))
const latencyMs = Options.float("latency-ms").pipe(Options.withDefault(0), Options.withDescription("base latency of every answer"))
const perBarUs = Options.float("per-bar-us").pipe(Options.withDefault(0), Options.withDescription("extra latency per historical bar, µs"))
const verbose = Options.boolean("verbose").pipe(Options.withDescription("log session events to stderr"))

const sim = Command.make("sim", { port, controlPort, pacing, timeScale, latencyMs, perBarUs, verbose }, (o) =>
  Effect.gen(function* () {
    if (o.timeScale <= 0) return yield* Effect.fail(new Error("--time-scale must be positive"))
    if (o.port < 0 || o.port > 65535 || o.controlPort < 0 || o.controlPort > 65535) return yield* Effect.fail(new Error("ports must be 0–65535"))
    const runtime = yield* Effect.runtime<never>()
    const log = o.verbose ? (line: string) => void Effect.runFork(Effect.logInfo(line).pipe(Effect.provide(runtime))) : undefined
    const gateway = yield* Simulator.make({
      port: o.port, pacing: o.pacing, timeScale: o.timeScale, latencyMs: o.latencyMs, perBarUs: o.perBarUs, ...(log ? { log } : {})
    })
    const control = yield* startControlApi(gateway, o.controlPort)
    yield* Console.log(
      `ktrdr sim: TWS API v193 on 127.0.0.1:${gateway.port}, control API on http://127.0.0.1:${control} ` +
        `(pacing ${o.pacing}, time-scale ${o.timeScale}, latency ${o.latencyMs} ms + ${o.perBarUs} µs/bar)`
    )
    return yield* Effect.never
  }).pipe(Effect.scoped, Logger.withMinimumLogLevel(o.verbose ? LogLevel.Info : LogLevel.Warning))
)

const cli = Command.run(sim, { name: "ktrdr-sim", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
