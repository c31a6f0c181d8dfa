/**
 * The simulator as an @effect/cli command: `npm run sim` (src/sim/main.ts) and `ktrdr sim` run this same
 * command. Only the options live here; the simulator itself is imported when the command runs, so the
 * `ktrdr` bundle does not evaluate it for every other command.
 */
import { Command, Options } from "@effect/cli"
import { Effect } from "effect"

const port = Options.integer("port").pipe(
  Options.withDefault(4002),
  Options.withDescription("TWS API port (0 = any free port)")
)
const controlPort = Options.integer("control-port").pipe(
  Options.withDefault(4003),
  Options.withDescription("JSON control API port")
)
const pacing = Options.choice("pacing", ["strict", "all", "off"] as const).pipe(
  Options.withDefault("strict" as const),
  Options.withDescription("strict: IB's rules for bars ≤ 30 s; all: for every bar size; off")
)
const timeScale = Options.float("time-scale").pipe(
  Options.withDefault(1),
  Options.withDescription("shrink pacing windows and latencies by this factor")
)
const latencyMs = Options.float("latency-ms").pipe(
  Options.withDefault(0),
  Options.withDescription("base latency of every answer")
)
const perBarUs = Options.float("per-bar-us").pipe(
  Options.withDefault(0),
  Options.withDescription("extra latency per historical bar, µs")
)
const verbose = Options.boolean("verbose").pipe(Options.withDescription("log session events to stderr"))

export const simOptions = { port, controlPort, pacing, timeScale, latencyMs, perBarUs, verbose }
export type SimOptions = Command.Command.ParseConfig<typeof simOptions>

export const simCommand = Command.make(
  "sim",
  simOptions,
  (o) => Effect.flatMap(Effect.promise(() => import("./runSim.ts")), (m) => m.runSim(o))
).pipe(Command.withDescription("Run the TWS-protocol gateway simulator (synthetic IB data) on 127.0.0.1 until Ctrl-C"))
