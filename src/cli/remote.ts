/**
 * Remote mode: the commands reach a `ktrdr serve` process over HTTP. One keep-alive agent per command
 * (destroyed with the command's scope), so sequential requests reuse one socket and the process exits
 * as soon as the command is done — no idle socket keeps it alive, none is left open at the server.
 * node:http rather than the platform's undici client: undici would add ~1 MB to the bundle's start-up.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Layer, type Option } from "effect"
import { KtrdrClient } from "./KtrdrClient.ts"
import { makeKtrdrClient } from "./clientImpl.ts"

export const remoteLayer = (o: { readonly baseUrl: string; readonly token: Option.Option<string> }) =>
  Layer.effect(KtrdrClient, makeKtrdrClient({ ...o, embedded: false })).pipe(
    Layer.provide(NodeHttpClient.layerWithoutAgent),
    // maxSockets is not capped: a Ctrl-C cancel must not queue behind the open event stream.
    Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: true }))
  )
