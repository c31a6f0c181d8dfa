/**
 * Chooses the KtrdrClient Layer of a command from its parsed options — after parsing, so `--help`,
 * `--version` and usage errors never load the client, touch the network or open an IB session — and
 * provides it once for the whole command (two provides would build two graphs: two IB sessions).
 * Both implementations are dynamic imports: the bundle's start-up only evaluates the command tree.
 */
import { Command } from "@effect/cli"
import { Config, Context, Effect, Layer, Logger, LogLevel, Option } from "effect"
import type { KtrdrClient } from "./KtrdrClient.ts"
import { report } from "./errors.ts"
import { mark } from "./timing.ts"
import type { ConnectionOptions } from "./options.ts"

const token = Config.option(Config.nonEmptyString("KTRDR_API_TOKEN")).pipe(
  Config.orElse(() => Config.succeed(Option.none<string>()))
)

/**
 * Where `--embedded` gets its client: the core graph and the server's handlers live above the CLI, so
 * the bin's composition root (src/app/cliMain.ts) provides a loader (a dynamic import) instead of the
 * CLI importing them.
 */
export class EmbeddedClient extends Context.Tag("ktrdr/cli/EmbeddedClient")<EmbeddedClient, {
  readonly load: () => Promise<Layer.Layer<KtrdrClient, unknown>>
}>() {}

export const clientLayer = (o: ConnectionOptions) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      mark("parsed")
      if (o.embedded) return yield* Effect.promise((yield* EmbeddedClient).load)
      const t = yield* Effect.orDie(token)
      const { remoteLayer } = yield* Effect.promise(() => import("./remote.ts"))
      mark("client-chunk")
      return remoteLayer({ baseUrl: o.url.replace(/\/+$/, ""), token: t })
    })
  ).pipe(Layer.tap(() => Effect.sync(() => mark("client-ready"))))

/** Logs go to stderr: stdout carries only results (a table, one JSON document, a CSV). */
const StderrLogger = Logger.replace(Logger.defaultLogger, Logger.prettyLogger({ stderr: true }))

/** `--verbose` shows the core's and the client's logs; otherwise warnings and errors only. */
export const verbosity = (verbose: boolean) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(Logger.withMinimumLogLevel(verbose ? LogLevel.Debug : LogLevel.Warning), Effect.provide(StderrLogger))

/**
 * Provides the client chosen by the command's own connection options, sets the log level, and reports
 * any failure (of the command or of building its client) against the right target.
 */
export const withClient = <Name extends string, R, E, A extends ConnectionOptions>(
  cmd: Command.Command<Name, R, E, A>
) =>
  cmd.pipe(
    Command.provide((o: A) => clientLayer(o)),
    Command.transformHandler((effect, o: A) =>
      effect.pipe(Effect.catchAll((e) => report(e, o.embedded ? "embedded" : o.url)), verbosity(o.verbose))
    )
  )
