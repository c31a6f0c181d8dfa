/**
 * `ktrdr serve`: the HTTP server over the core graph (this process owns the gateway session), with
 * `--sim` on the built-in simulator. The server (Swagger UI, HTTP server, IB client, simulator) is a
 * second bundle chunk, imported only here, so other commands never load it.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Layer, Option } from "effect"
import { report } from "../cli/errors.ts"
import { signalIsNormalStop } from "../cli/exit.ts"

const options = {
  sim: Options.boolean("sim").pipe(
    Options.withDescription("use the built-in gateway simulator instead of KTRDR_IB_HOST:KTRDR_IB_PORT")
  ),
  port: Options.integer("port").pipe(
    Options.optional,
    Options.withDescription("listen port (else KTRDR_API_PORT, else 8000; 0 = any free port)")
  ),
  host: Options.text("host").pipe(
    Options.optional,
    Options.withDescription("listen address (else KTRDR_API_HOST, else 127.0.0.1)")
  )
}

export const serveCommand = Command.make("serve", options, (o) =>
  Effect.gen(function*() {
    signalIsNormalStop()
    const [{ serve, DEMO_SIM }, { ApiConfig, ApiSettingsConfig }] = yield* Effect.promise(() =>
      Promise.all([import("./serve.ts"), import("../layers/ApiConfig.ts")])
    )
    // Read here so a bad KTRDR_API_* value is reported as this command's error.
    const settings = yield* ApiSettingsConfig
    const api = Layer.succeed(ApiConfig, {
      ...settings,
      ...Option.match(o.port, { onNone: () => ({}), onSome: (port) => ({ port }) }),
      ...Option.match(o.host, { onNone: () => ({}), onSome: (host) => ({ host }) })
    })
    return yield* serve({ ...(o.sim ? { sim: DEMO_SIM } : {}), api })
  }).pipe(Effect.catchAll((e) => report(e, "")))).pipe(
    Command.withDescription(
      "Run the HTTP API server (owns the IB gateway session) until Ctrl-C; logs per KTRDR_LOG_FORMAT / KTRDR_LOG_LEVEL"
    )
  )
