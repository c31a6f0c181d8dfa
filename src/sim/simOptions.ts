/** The simulator's command-line options, shared by the command (command.ts) and the runner (runSim.ts). */
import { Command, Options } from "@effect/cli"

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
