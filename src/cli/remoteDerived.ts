/**
 * The client derived from the whole contract, over node:http through the command's agents (remote.ts):
 * loaded on a remote command's first call that needs it.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, type Option } from "effect"
import { makeKtrdrClient } from "./clientImpl.ts"
import type * as Http from "node:http"
import type * as Https from "node:https"

/** node:http's agents of a command (remote.ts): the https one made on first use; both destroyed with its scope. */
export interface Agents {
  readonly http: Http.Agent
  readonly https: Https.Agent
}

export const derivedClient = (
  o: { readonly baseUrl: string; readonly token: Option.Option<string> },
  agents: Agents
) =>
  makeKtrdrClient({ ...o, embedded: false }).pipe(
    Effect.provide(NodeHttpClient.layerWithoutAgent),
    Effect.provideService(NodeHttpClient.HttpAgent, {
      [NodeHttpClient.HttpAgentTypeId]: NodeHttpClient.HttpAgentTypeId,
      http: agents.http,
      get https() {
        return agents.https
      }
    })
  )
