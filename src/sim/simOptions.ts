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
const serverVersion = Options.integer("server-version").pipe(
  Options.withDefault(193),
  Options.withDescription("highest TWS server version to speak (100–193); clients get min(their max, this)")
)
const clock = Options.text("clock").pipe(
  Options.optional,
  Options.withDescription("start the gateway's clock at this ISO instant (e.g. 2024-03-05T14:30:00Z)")
)
const clockSpeed = Options.float("clock-speed").pipe(
  Options.withDefault(1),
  Options.withDescription("simulated seconds per real second")
)
const verbose = Options.boolean("verbose").pipe(Options.withDescription("log session events to stderr"))

export const simOptions = {
  port,
  controlPort,
  pacing,
  timeScale,
  latencyMs,
  perBarUs,
  serverVersion,
  clock,
  clockSpeed,
  verbose
}
export type SimOptions = Command.Command.ParseConfig<typeof simOptions>
