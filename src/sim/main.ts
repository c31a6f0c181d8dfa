/**
 * `npm run sim -- --port 4002 --control-port 4003 [--pacing strict|all|off] [--time-scale K] [--latency-ms N]`
 * The same command as `ktrdr sim` (src/sim/command.ts), run on its own.
 */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { simCommand } from "./command.ts"

const cli = Command.run(simCommand, { name: "ktrdr-sim", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain)
