/**
 * Remote mode: the commands reach a `ktrdr serve` process over HTTP. One keep-alive agent per command
 * (destroyed with the command's scope), so sequential requests reuse one socket and the process exits
 * as soon as the command is done — no idle socket keeps it alive, none is left open at the server.
 * node:http rather than the platform's undici client: undici would add ~1 MB to the bundle's start-up.
 * The https agent is made on first use: platform-node's own agent layer makes both, and an https agent
 * loads TLS and crypto (~10 ms at every start) for a server that is almost always plain http.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer, type Option } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { KtrdrClient } from "./KtrdrClient.ts"
import { makeKtrdrClient } from "./clientImpl.ts"

const options: Https.AgentOptions = { keepAlive: true }

// maxSockets is not capped: a Ctrl-C cancel must not queue behind the open event stream.
const agentLayer = Layer.scoped(
  NodeHttpClient.HttpAgent,
  Effect.acquireRelease(
    Effect.sync(() => {
      const http = new Http.Agent(options)
      let https: Https.Agent | undefined
      return {
        agent: {
          [NodeHttpClient.HttpAgentTypeId]: NodeHttpClient.HttpAgentTypeId,
          http,
          get https() {
            return (https ??= new Https.Agent(options))
          }
        } satisfies NodeHttpClient.HttpAgent,
        destroy: () => {
          http.destroy()
          https?.destroy()
        }
      }
    }),
    (a) => Effect.sync(a.destroy)
  ).pipe(Effect.map((a) => a.agent))
)

export const remoteLayer = (o: { readonly baseUrl: string; readonly token: Option.Option<string> }) =>
  Layer.effect(KtrdrClient, makeKtrdrClient({ ...o, embedded: false })).pipe(
    Layer.provide(NodeHttpClient.layerWithoutAgent),
    Layer.provide(agentLayer)
  )
