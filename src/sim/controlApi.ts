/**
 * The simulator's JSON control API on its own loopback port: `GET /stats`, `GET /requests`, `GET /faults`,
 * `POST /faults` (FaultsPatch), `POST /config` (pacing, time scale, latency) and `POST /reset`.
 */
import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer, ParseResult, Schema } from "effect"
import { FaultsPatch } from "./faults.ts"
import type { GatewaySimulator } from "./GatewaySimulator.ts"

export const ConfigPatch = Schema.Struct({
  pacing: Schema.optional(Schema.Literal("strict", "all", "off")),
  timeScale: Schema.optional(Schema.Number.pipe(Schema.positive())),
  latencyMs: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  perBarUs: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** The highest server version offered to clients that connect afterwards. */
  serverVersion: Schema.optional(Schema.Int.pipe(Schema.between(100, 193)))
})

/** Unknown keys are errors too: a misspelt fault switch must not silently do nothing. */
const strict = { onExcessProperty: "error" } as const

const badRequest = (e: unknown) =>
  HttpServerResponse.unsafeJson(
    {
      error: ParseResult.isParseError(e)
        ? ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
        : [e instanceof Error ? e.message : String(e)]
    },
    { status: 400 }
  )

export const controlRouter = (sim: GatewaySimulator) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/stats", Effect.sync(() => HttpServerResponse.unsafeJson(sim.stats()))),
    HttpRouter.get("/requests", Effect.sync(() => HttpServerResponse.unsafeJson(sim.requests()))),
    HttpRouter.get("/faults", Effect.sync(() => HttpServerResponse.unsafeJson(sim.faults))),
    HttpRouter.post(
      "/faults",
      HttpServerRequest.schemaBodyJson(FaultsPatch, strict).pipe(
        Effect.flatMap((p) => Effect.promise(() => sim.setFaults(p))),
        Effect.map(() => HttpServerResponse.unsafeJson(sim.faults)),
        Effect.catchAll((e) => Effect.succeed(badRequest(e)))
      )
    ),
    HttpRouter.post(
      "/config",
      HttpServerRequest.schemaBodyJson(ConfigPatch, strict).pipe(
        Effect.map((c) => {
          sim.configure(c)
          return HttpServerResponse.unsafeJson({ ok: true })
        }),
        Effect.catchAll((e) => Effect.succeed(badRequest(e)))
      )
    ),
    HttpRouter.post(
      "/reset",
      Effect.promise(() => sim.reset()).pipe(Effect.as(HttpServerResponse.unsafeJson({ ok: true })))
    )
  )

/** Serves the control API on 127.0.0.1:`port` (0 = any free port) until the scope closes; returns the port. */
export const startControlApi = (sim: GatewaySimulator, port: number) =>
  Effect.gen(function*() {
    const ctx = yield* Layer.build(NodeHttpServer.layer(() => createServer(), { port, host: "127.0.0.1" }))
    yield* HttpServer.serveEffect(controlRouter(sim)).pipe(Effect.provide(ctx))
    const address = Context.get(ctx, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? address.port : port
  })
