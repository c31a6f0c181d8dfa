/**
 * The `ktrdr` program: the command tree, built when this module is evaluated, and `runCli`, which runs
 * one command line. Two entries run it: src/app/cliMain.ts (the ESM bundle dist/ktrdr.mjs) and
 * src/app/cliSnapshot.ts (the V8 startup snapshot, where the tree and the remote client are already
 * in the heap when the process starts). Parses first; only then does a command build what it needs (a
 * keep-alive HTTP client, or the whole core graph with --embedded, or the server), once, and closes it
 * before the process exits. Exit codes: 0 ok, 1 failure, 2 usage, 130 Ctrl-C.
 */
import { Command, HelpDoc, ValidationError } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Layer } from "effect"
import pkg from "../../package.json" with { type: "json" }
import { dataCommand } from "../cli/data.ts"
import { report } from "../cli/errors.ts"
import { exitCodeOf, exitWhenFlushed, setExitCode, signalIsNormalStop, watchSignals } from "../cli/exit.ts"
import { ibCommand } from "../cli/ib.ts"
import { operationsCommand } from "../cli/operations.ts"
import { EmbeddedClient } from "../cli/connection.ts"
import { DataTransfer } from "../cli/dataTransfer.ts"
import { renderHelp, styleFor } from "../cli/help.ts"
import { helpTree } from "../cli/helpTree.ts"
import { resolveArgv, type Resolution, usageMessage } from "../cli/usage.ts"
import { simCommand } from "./demoCommand.ts"
import { serveCommand } from "./serveCommand.ts"
import { lazyTerminal } from "./cliTerminal.ts"

/** `ktrdr sim` is the simulator's own command; here it only learns that a signal is its normal stop. */
const sim = simCommand.pipe(Command.transformHandler((run) => Effect.zipRight(Effect.sync(signalIsNormalStop), run)))

const ktrdr = Command.make("ktrdr").pipe(
  Command.withDescription(
    "KTRDR market data: stored bars, IB loads, operations, the API server and the gateway simulator"
  ),
  Command.withSubcommands([dataCommand, operationsCommand, ibCommand, serveCommand, sim])
)

const cli = Command.run(ktrdr, { name: "ktrdr", version: pkg.version })

export const tree = helpTree(ktrdr, {
  data: dataCommand,
  operations: operationsCommand,
  ib: ibCommand,
  leaves: [serveCommand, sim]
})

const pathName = (r: Resolution) => r.path.map((n) => n.name).join(" ")

/** A usage failure: one line naming what was wrong, where to read more, exit 2. */
const usageFailure = (where: string, message: string) =>
  Effect.sync(() => {
    process.stderr.write(`${where}: ${message} (see '${where} --help')\n`)
    setExitCode(2)
  })

/**
 * What @effect/cli needs from the platform, without NodeContext's command executor and workers, and with
 * a terminal that is only made when a prompt needs one (cliTerminal.ts).
 */
const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, lazyTerminal)

/** `data export|import` run from the ES-module bundle (the launcher routes them there). */
const NO_TRANSFER: DataTransfer["Type"] = {
  load: () => Promise.reject(new Error("ktrdr: data export/import run from the ES-module bundle (routing bug)"))
}

/** The program for one command line (`argv` as process.argv: the executable, the script, then the arguments). */
export const program = (
  argv: ReadonlyArray<string>,
  embedded: EmbeddedClient["Type"],
  transfer: DataTransfer["Type"] = NO_TRANSFER
) => {
  const args = argv.slice(2)
  const resolution = resolveArgv(tree, args)
  /**
   * @effect/cli prints a usage failure itself (through Console.error) before failing with it; that text is
   * kept here and rewritten into one line (usage.ts). Our own output never goes through Console.error.
   */
  const captured: Array<string> = []
  const capturing = (c: Console.Console): Console.Console => ({
    ...c,
    error: (...xs) => Effect.sync(() => void captured.push(xs.map(String).join(" ")))
  })
  const run = Effect.suspend(() => cli(argv)).pipe(
    (self) => Effect.flatMap(Effect.console, (c) => Effect.withConsole(self, capturing(c))),
    Effect.catchAll((e) =>
      ValidationError.isValidationError(e)
        ? usageFailure(pathName(resolution), usageMessage(captured.join("\n") || HelpDoc.toAnsiText(e.error), args))
        : report(e, "")
    )
  )
  return Effect.suspend(() => {
    switch (resolution._tag) {
      case "Help":
        return Effect.sync(() => void process.stdout.write(renderHelp(resolution.path, styleFor(process.stdout))))
      case "Usage":
        return usageFailure(pathName(resolution), resolution.message)
      case "Run":
        return run
    }
  }).pipe(
    Effect.catchTag("ExitCode", (e) => Effect.sync(() => setExitCode(e.code))),
    Effect.provide(Platform),
    Effect.provideService(EmbeddedClient, embedded),
    Effect.provideService(DataTransfer, transfer)
  )
}

/** Runs one command line as the process's main program, and exits with its code once output is flushed. */
export const runCli = (
  argv: ReadonlyArray<string>,
  embedded: EmbeddedClient["Type"],
  transfer: DataTransfer["Type"] = NO_TRANSFER
) => {
  watchSignals()
  NodeRuntime.runMain(program(argv, embedded, transfer), {
    disablePrettyLogger: true,
    teardown: (exit) => exitWhenFlushed(exitCodeOf(exit))
  })
}
