/**
 * Embedded mode (`--embedded`): the core graph runs in this process and the commands reach it through
 * the server's own HttpApi handlers, run in-process as a web handler (no port, no socket) under the
 * same derived client. Chosen over calling the services directly because the output is then identical
 * to remote mode by construction: the same validation, error mapping (IB codes in the envelope), SSE
 * progress and JSON shapes — there is no second code path to keep in step.
 * The graph is built once for the command and closed with it (gateway session included).
 */
import { FetchHttpClient, HttpApiBuilder, HttpApp, type HttpRouter, HttpServer } from "@effect/platform"
import { Config, Effect, Layer, Option } from "effect"
import { ApiLive } from "../http/ApiLive.ts"
import { ApiConfig } from "../layers/ApiConfig.ts"
import { IbConfig, IbSettingsConfig } from "../layers/Config.ts"
import { coreLayer } from "./Core.ts"
import { KtrdrClient } from "../cli/KtrdrClient.ts"
import { makeKtrdrClient } from "../cli/clientImpl.ts"

/**
 * A client id of its own, so an embedded command can run beside a server on the same gateway (KTRDR's
 * api_pool range starts at 11); IbConnection moves to the next ids on IB 326.
 */
const EmbeddedIbConfig = Layer.effect(
  IbConfig,
  Effect.map(
    Config.all([IbSettingsConfig, Config.integer("KTRDR_CLI_CLIENT_ID").pipe(Config.withDefault(11))]),
    ([s, clientId]) => ({ ...s, clientId })
  )
)

/** The API's handlers over the core services in context, as `Request → Promise<Response>`. */
const inProcessFetch = Effect.gen(function*() {
  const runtime = yield* Effect.runtime<HttpRouter.HttpRouter.DefaultServices>()
  const app = yield* HttpApiBuilder.httpApp
  const handler = HttpApp.toWebHandlerRuntime(runtime)(app)
  const fetchInProcess: typeof globalThis.fetch = (input, init) => handler(new Request(input, init))
  return fetchInProcess
})

const clientOverHandlers = Layer.effect(
  KtrdrClient,
  Effect.gen(function*() {
    const fetchInProcess = yield* inProcessFetch
    return yield* makeKtrdrClient({ baseUrl: "http://embedded", token: Option.none(), embedded: true }).pipe(
      Effect.provide(FetchHttpClient.layer),
      Effect.provideService(FetchHttpClient.Fetch, fetchInProcess)
    )
  })
)

export const embeddedLayer = clientOverHandlers.pipe(
  Layer.provide(
    Layer.mergeAll(ApiLive, HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer, HttpServer.layerContext)
  ),
  // No token in-process: nothing crosses a process boundary.
  Layer.provide(ApiConfig.make()),
  // Lazy: only commands that need IB (load, ib …) open a session; `data show` opens none and logs nothing of it.
  Layer.provide(coreLayer({ ibConfig: EmbeddedIbConfig, lazyGateway: true }))
)
