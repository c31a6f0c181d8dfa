/**
 * The simulator as an @effect/cli command: `npm run sim` (src/sim/main.ts) and `ktrdr sim` run this same
 * command. Only the options live here; the simulator itself is imported when the command runs, so the
 * `ktrdr` bundle does not evaluate it for every other command.
 */
import { Command } from "@effect/cli"
import { Effect } from "effect"
import { simOptions } from "./simOptions.ts"

export const simCommand = Command.make(
  "sim",
  simOptions,
  (o) => Effect.flatMap(Effect.promise(() => import("./runSim.ts")), (m) => m.runSim(o))
).pipe(Command.withDescription("Run the TWS-protocol gateway simulator (synthetic IB data) on 127.0.0.1 until Ctrl-C"))
