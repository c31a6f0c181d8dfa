/**
 * The simulator's JSON control API on its own loopback port: `GET /stats`, `GET /faults`,
 * `POST /faults` (FaultsPatch), `POST /config` (pacing, time scale, latency) and `POST /reset`.
 */
import { createServer } from "node:http"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { FaultsPatch } from "./faults.ts"
import type { GatewaySimulator } from "./GatewaySimulator.ts"

export const ConfigPatch = Schema.Struct({
  pacing: Schema.optional(Schema.Literal("strict", "all", "off")),
  timeScale: Schema.optional(Schema.Number.pipe(Schema.positive())),
  latencyMs: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  perBarUs: Schema.optional(Schema.Number.pipe(Schema.nonNegative()))
})

const badRequest = (e: unknown) =>
  HttpServerResponse.unsafeJson({ error: e instanceof Error ? e.message : String(e) }, { status: 400 })

export const controlRouter = (sim: GatewaySimulator) =>
  HttpRouter.empty.pipe(
    HttpRouter.get("/stats", Effect.sync(() => HttpServerResponse.unsafeJson(sim.stats()))),
    HttpRouter.get("/faults", Effect.sync(() => HttpServerResponse.unsafeJson(sim.faults))),
    HttpRouter.post(
      "/faults",
      HttpServerRequest.schemaBodyJson(FaultsPatch).pipe(
        Effect.flatMap((p) => Effect.promise(() => sim.setFaults(p))),
        Effect.map(() => HttpServerResponse.unsafeJson(sim.faults)),
        Effect.catchAll((e) => Effect.succeed(badRequest(e)))
      )
    ),
    HttpRouter.post(
      "/config",
      HttpServerRequest.schemaBodyJson(ConfigPatch).pipe(
        Effect.map((c) => {
          sim.configure(c)
          return HttpServerResponse.unsafeJson({ ok: true })
        }),
        Effect.catchAll((e) => Effect.succeed(badRequest(e)))
      )
    ),
    HttpRouter.post("/reset", Effect.promise(() => sim.reset()).pipe(Effect.as(HttpServerResponse.unsafeJson({ ok: true }))))
  )

/** Serves the control API on 127.0.0.1:`port` for as long as the layer lives. */
export const controlApiLayer = (sim: GatewaySimulator, port: number) =>
  HttpServer.serve(controlRouter(sim)).pipe(Layer.provide(NodeHttpServer.layer(() => createServer(), { port, host: "127.0.0.1" })))
