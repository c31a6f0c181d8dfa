/**
 * Remote mode: the commands reach a `ktrdr serve` process over HTTP. One keep-alive agent per command
 * (destroyed with the command's scope), so sequential requests reuse one socket and the process exits
 * as soon as the command is done — no idle socket keeps it alive, none is left open at the server.
 * node:http rather than the platform's undici client: undici would add ~1 MB to the bundle's start-up.
 * The https agent is made on first use: an https agent loads TLS and crypto (~10 ms at every start) for
 * a server that is almost always plain http.
 *
 * The client derived from the whole contract (remoteDerived.ts) is loaded and derived on a command's
 * first call through it: `ktrdr data show`, the command run most, makes its one request through
 * barsRequest.ts and never loads it (~30 ms of its start).
 */
import { Effect, Layer, type Option, Stream } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { barsRequest } from "./barsRequest.ts"
import { type Api, KtrdrClient, type KtrdrClientService } from "./KtrdrClient.ts"
import type { Agents } from "./remoteDerived.ts"

const options: Https.AgentOptions = { keepAlive: true }

// maxSockets is not capped: a Ctrl-C cancel must not queue behind the open event stream.
const agents = Effect.acquireRelease(
  Effect.sync(() => {
    const http = new Http.Agent(options)
    let https: Https.Agent | undefined
    return {
      agents: {
        http,
        get https() {
          return (https ??= new Https.Agent(options))
        }
      } satisfies Agents,
      destroy: () => {
        http.destroy()
        https?.destroy()
      }
    }
  }),
  (a) => Effect.sync(a.destroy)
).pipe(Effect.map((a) => a.agents))

type Endpoint = (request: unknown) => Effect.Effect<unknown, unknown>
type Overrides = Readonly<Record<string, Readonly<Record<string, Endpoint>>>>

/**
 * The derived client's groups and endpoints, each call waiting for the derived client (loaded once, on
 * the first call); `overrides` answer some endpoints without it. A Proxy because the endpoints' names are
 * in the contract, which is what is not loaded here.
 */
const deferredApi = (full: Effect.Effect<KtrdrClientService>, overrides: Overrides): Api =>
  new Proxy({}, {
    get: (_, group: string) =>
      new Proxy({}, {
        get: (_, name: string): Endpoint =>
          overrides[group]?.[name] ??
            ((request) =>
              Effect.flatMap(full, (c) =>
                (c.api as unknown as Record<string, Record<string, Endpoint>>)[group]![name]!(request)))
      })
  }) as Api

export const remoteLayer = (o: { readonly baseUrl: string; readonly token: Option.Option<string> }) =>
  Layer.scoped(
    KtrdrClient,
    Effect.gen(function*() {
      const a = yield* agents
      const full = yield* Effect.cached(
        Effect.flatMap(Effect.promise(() => import("./remoteDerived.ts")), (m) => m.derivedClient(o, a))
      )
      const bars = barsRequest({
        ...o,
        agent: a.http,
        fallback: (request) => Effect.flatMap(full, (c) => c.api.data.bars(request))
      })
      return KtrdrClient.of({
        target: o.baseUrl,
        embedded: false,
        api: deferredApi(full, { data: { bars: bars as Endpoint } }),
        events: (id) => Stream.unwrap(Effect.map(full, (c) => c.events(id))),
        cancel: (id, reason) => Effect.flatMap(full, (c) => c.cancel(id, reason))
      })
    })
  )
