/**
 * The `ktrdr` bin (bundled to dist/ktrdr.mjs). Parses first; only then does a command build what it
 * needs (a keep-alive HTTP client, or the whole core graph with --embedded, or the server), once, and
 * closes it before the process exits. Exit codes: 0 ok, 1 failure, 2 usage, 130 Ctrl-C.
 */
import { Command, ValidationError } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Layer } from "effect"
import pkg from "../../package.json" with { type: "json" }
import { dataCommand } from "../cli/data.ts"
import { report } from "../cli/errors.ts"
import { exitCodeOf, exitWhenFlushed, setExitCode, signalIsNormalStop, watchSignals } from "../cli/exit.ts"
import { ibCommand } from "../cli/ib.ts"
import { operationsCommand } from "../cli/operations.ts"
import { EmbeddedClient } from "../cli/connection.ts"
import { simCommand } from "./demo.ts"
import { serveCommand } from "./serveCommand.ts"
import { mark } from "../cli/timing.ts"

mark("modules")

/** `ktrdr sim` is the simulator's own command; here it only learns that a signal is its normal stop. */
const sim = simCommand.pipe(Command.transformHandler((run) => Effect.zipRight(Effect.sync(signalIsNormalStop), run)))

const ktrdr = Command.make("ktrdr").pipe(
  Command.withDescription(
    "KTRDR market data: stored bars, IB loads, operations, the API server and the gateway simulator"
  ),
  Command.withSubcommands([dataCommand, operationsCommand, ibCommand, serveCommand, sim])
)

const cli = Command.run(ktrdr, { name: "ktrdr", version: pkg.version })

/** What @effect/cli needs from the platform, without NodeContext's command executor and workers. */
const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.catchAll((e) =>
    // @effect/cli has already printed the usage error with the command's help.
    ValidationError.isValidationError(e) ? Effect.sync(() => setExitCode(2)) : report(e, "")
  ),
  Effect.catchTag("ExitCode", (e) => Effect.sync(() => setExitCode(e.code))),
  Effect.provide(Platform),
  Effect.provideService(EmbeddedClient, {
    load: () => import("./embeddedClient.ts").then((m) => m.embeddedLayer)
  })
)

watchSignals()
NodeRuntime.runMain(program, { disablePrettyLogger: true, teardown: (exit) => exitWhenFlushed(exitCodeOf(exit)) })
