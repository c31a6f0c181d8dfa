/**
 * The HTTP server over the core graph: the HttpApi handlers, OpenAPI + docs, CORS, auth and the request
 * middleware, on a Node server this layer owns. It requires the core services and never builds them,
 * so the server, library calls and CLI commands in one process share one gateway session.
 */
import {
  Etag,
  FileSystem,
  HttpApiBuilder,
  HttpApiSwagger,
  HttpMiddleware,
  HttpPlatform,
  type HttpRouter,
  HttpServer,
  Path
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, Option, Scope } from "effect"
import { createServer, type Server } from "node:http"
import { ApiConfig, type ApiSettings, isLoopback } from "../layers/ApiConfig.ts"
import { ApiLive } from "./ApiLive.ts"
import { makeHotLane } from "./hotLane.ts"
import { requestMiddleware } from "./middleware.ts"

/** Refused at startup: a server reachable from other machines without a token would hand out the gateway. */
export class UnsafeBind extends Error {
  readonly _tag = "UnsafeBind"
}

export interface ServerOptions {
  /** Extra routes beside the API (e.g. the chart page). */
  readonly routes?: Layer.Layer<never, never, never>
}

/**
 * The server layer: listens on `KTRDR_API_HOST:KTRDR_API_PORT` until its scope closes, then stops
 * accepting, drops open connections (SSE streams included, which would otherwise hold shutdown), and
 * only then lets the core below it interrupt loads and close the gateway session.
 */
export const serverLayer = (options: ServerOptions = {}) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const cfg = yield* ApiConfig
      if (!isLoopback(cfg.host) && Option.isNone(cfg.token)) {
        return yield* Effect.fail(
          new UnsafeBind(
            `Refusing to listen on ${cfg.host}: binding a non-loopback address needs KTRDR_API_TOKEN ` +
              "(clients then send Authorization: Bearer <token>). " +
              "Set KTRDR_API_TOKEN, or use KTRDR_API_HOST=127.0.0.1."
          )
        )
      }
      // A socket takes up to 1 MB before write() asks the streamed answer to wait for "drain": with Node's 16 KB,
      // every ~200 KB piece of a large GET waited for the client to read it before the next was written.
      const server: Server = createServer({ highWaterMark: 1 << 20 })
      server.keepAliveTimeout = 65_000
      const dropConnections = Layer.scopedDiscard(
        Effect.addFinalizer(() => Effect.sync(() => server.closeAllConnections()))
      )
      return dropConnections.pipe(
        Layer.provideMerge(apiServed(cfg, options)),
        HttpServer.withLogAddress,
        Layer.provideMerge(NodeHttpServer.layer(() => server, { port: cfg.port, host: cfg.host })),
        // No trace exporter is configured, and a span per request cost ~15 % of throughput (bench/http-bars).
        Layer.provide(Layer.setTracerEnabled(false)),
        // With tracing off, the platform's per-request tracer middleware still parses each URL, redacts the headers
        // and opens a no-op span (~15 µs of a cached GET's ~160): it is skipped for every request.
        Layer.provide(Layer.locallyScoped(HttpMiddleware.currentTracerDisabledWhen, () => true))
      )
    })
  )

/**
 * HttpApiBuilder.serve(), with each request run on the listener's own services. The platform forks every request
 * from the context the app was served in, and copies that context twice per request (adding the request, then the
 * request's scope): served inside the core graph, that was every service of the process copied for each GET
 * (bench/http-bars). Handlers, the request middleware and the hot lane hold the services they were built with, so
 * a request needs only what the platform's own responses use (HttpRouter's DefaultServices) and the listener.
 */
const serveApi = Layer.unwrapEffect(Effect.map(HttpApiBuilder.httpApp, (app) =>
  Layer.scopedDiscard(
    Effect.flatMap(
      Effect.context<HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices | Scope.Scope>(),
      (ctx) => {
        const own = Context.pick(
          HttpServer.HttpServer,
          HttpPlatform.HttpPlatform,
          Etag.Generator,
          FileSystem.FileSystem,
          Path.Path,
          Scope.Scope
        )(ctx)
        // Replaces the context (Effect.provide would merge into it).
        return Effect.mapInputContext(HttpServer.serveEffect(app), (_: Context.Context<never>) => own)
      }
    )
  ))).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]))

/**
 * The API — handlers, docs, CORS, auth and the request middleware — served on whichever HttpServer is
 * provided: the Node listener of `serverLayer`, or an in-process one (bench/http-bars measures the
 * request path's own cost that way, without sockets).
 */
export const apiServed = (cfg: ApiSettings, options: ServerOptions = {}) =>
  serveApi.pipe(
    // One middleware around everything: CORS, ids, logs, limits and the error envelope (error answers get CORS too).
    Layer.provide(
      HttpApiBuilder.middleware(Effect.map(makeHotLane, (hotLane) =>
        requestMiddleware({
          maxBodyBytes: cfg.maxBodyBytes,
          docsToken: cfg.publicDocs ? Option.none() : cfg.token,
          corsOrigins: cfg.corsOrigins,
          hotLane
        })))
    ),
    Layer.provide(HttpApiSwagger.layer({ path: "/api/v1/docs" })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/v1/openapi.json" })),
    Layer.provide(options.routes ?? Layer.empty),
    Layer.provide(ApiLive)
  )

export { ApiLive }
