/**
 * The hot lane: GET /api/v1/data/{symbol}/{timeframe} — what a chart polls — answered without HttpApi's
 * router. Per request the router copies the fiber's whole context into a new one, parses the query into a
 * second map, and the group's handler merges the server's context into it again; for a cached answer that
 * was more than the handler's own work (bench/http-bars).
 *
 * Nothing of the endpoint is restated here: the path, its schemas, its middleware and its handler are
 * the contract's and the server's own — the lane decodes with the endpoint's path and query schemas,
 * runs the same Auth service on the same bearer decoding, and calls the same BarsReader. It takes only
 * requests it can read the way the router would (a plain path, a plain query, each key once) and whose
 * decoding and auth succeed; everything else — a bad parameter, a missing token, an escaped character —
 * goes the normal way and gets the normal answer, so no error is produced twice in two places.
 */
import { HttpApi, type HttpApp, type HttpServerRequest, type HttpServerResponse } from "@effect/platform"
import { Cause, Effect, Either, type Option, Redacted, Schema } from "effect"
import { KtrdrApi } from "../contract/Api.ts"
import { Auth } from "../contract/api/auth.ts"
import type { BarsQuery } from "./barsRead.ts"
import { BarsReader } from "./barsReader.ts"

/** The request's own app when it can take the lane; undefined sends it the normal way. */
export type HotLane = (
  req: HttpServerRequest.HttpServerRequest,
  normal: HttpApp.Default
) => HttpApp.Default<unknown> | undefined

/** A URL the lane takes: the endpoint's decoded input, and the reader's answer to it (an Effect value, made once). */
interface Taken {
  readonly input: BarsQuery
  readonly run: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown>
  /** What follows the auth check (made on first use: the normal way is the middleware's, the same every time). */
  refused?: {
    readonly normal: HttpApp.Default
    readonly to: (cause: Cause.Cause<unknown>) => Effect.Effect<HttpApp.Default<unknown>, unknown>
  }
}

/** What the lane reads of an endpoint. */
interface Route {
  readonly method: string
  readonly path: string
  readonly pathSchema: Option.Option<Schema.Schema<any, any, never>>
  readonly urlParamsSchema: Option.Option<Schema.Schema<any, any, never>>
}

const HOT = { group: "data", endpoint: "bars" }
const BEARER = "Bearer "
/** What HttpApiSecurity.bearer decodes a request without an Authorization header to. */
const NO_TOKEN = Redacted.make("")

/** Characters a path segment or query part may hold to be read here: what needs no decoding. */
const PLAIN = /^[\w.~:-]+$/

const segmentsOf = (path: string) => path.split("/").slice(1)

/** Two route paths that one URL could match (a parameter matches any segment). */
const overlap = (a: string, b: string) => {
  const x = segmentsOf(a), y = segmentsOf(b)
  return x.length === y.length && x.every((s, i) => s === y[i] || s.startsWith(":") || y[i]!.startsWith(":"))
}

/** `a=1&b=2` as a record; undefined for anything the router's parser might read differently. */
const plainQuery = (query: string): Record<string, string> | undefined => {
  const out: Record<string, string> = {}
  if (query === "") return out
  for (const part of query.split("&")) {
    const eq = part.indexOf("=")
    if (eq <= 0) return undefined
    const key = part.slice(0, eq), value = part.slice(eq + 1)
    if (!PLAIN.test(key) || (value !== "" && !PLAIN.test(value)) || key in out) return undefined
    out[key] = value
  }
  return out
}

/** The lane, or undefined when the contract no longer lets it stand in for the router. */
export const makeHotLane = Effect.gen(function*() {
  const auth = yield* Auth
  const { bars } = yield* BarsReader
  let hot: Route | undefined
  let middleware: ReadonlySet<unknown> = new Set()
  const gets: Array<string> = []
  HttpApi.reflect(KtrdrApi, {
    onGroup: () => {},
    onEndpoint: (e) => {
      if (e.group.identifier === HOT.group && e.endpoint.name === HOT.endpoint) {
        // reflect types an endpoint's schemas as Schema<never, …>; the lane only decodes with them
        hot = e.endpoint as unknown as Route
        middleware = e.middleware
      } else if (e.endpoint.method === "GET") gets.push(e.endpoint.path)
    }
  })
  // The lane replays exactly one middleware (Auth) and must be the only route for its URLs.
  if (hot === undefined || hot.method !== "GET" || middleware.size !== 1 || !middleware.has(Auth)) return undefined
  if (hot.pathSchema._tag === "None" || hot.urlParamsSchema._tag === "None") return undefined
  const template = hot.path
  if (gets.some((p) => overlap(p, template))) return undefined
  const shape = segmentsOf(template)
  const decodePath = Schema.decodeUnknownEither(hot.pathSchema.value)
  const decodeQuery = Schema.decodeUnknownEither(hot.urlParamsSchema.value)

  // A security middleware may read the route's context, which the lane does not build: ours (AuthLive) reads
  // only the server's token, and the tests of the lane (test/http/hotLane.test.ts) run with a token set.
  const checked = auth.bearer as (token: Redacted.Redacted<string>) => Effect.Effect<void, unknown>

  /** The endpoint's input for a URL, or null when the lane leaves it to the router. */
  const decode = (url: string): BarsQuery | null => {
    const q = url.indexOf("?")
    const path = q === -1 ? url : url.slice(0, q)
    const segments = segmentsOf(path)
    if (segments.length !== shape.length) return null
    const params: Record<string, string> = {}
    for (let i = 0; i < shape.length; i++) {
      const want = shape[i]!, got = segments[i]!
      if (want.startsWith(":")) {
        if (!PLAIN.test(got)) return null
        params[want.slice(1)] = got
      } else if (want !== got) return null
    }
    const query = plainQuery(q === -1 ? "" : url.slice(q + 1))
    if (query === undefined) return null
    const p = decodePath(params), u = decodeQuery(query)
    if (Either.isLeft(p) || Either.isLeft(u)) return null
    return { ...(p.right as object), ...(u.right as object) } as BarsQuery
  }
  /**
   * Decoded inputs by URL: decoding depends on the URL alone, and a chart asks for the same few URLs over and
   * over (the decoding was a fifth of the lane's cost). Bounded: any URL can be sent. The same input object
   * for the same URL also lets the reader keep its own per-query work (barsRead.ts).
   */
  const decoded = new Map<string, Taken | null>()
  const takenOf = (url: string): Taken | null => {
    let taken = decoded.get(url)
    if (taken === undefined) {
      const input = decode(url)
      // Interruptible, as the router runs handlers: a client that hangs up stops its wait.
      taken = input === null ? null : { input, run: Effect.interruptible(bars(input)) }
      if (decoded.size >= 1024) decoded.clear()
      decoded.set(url, taken)
    }
    return taken
  }

  const lane: HotLane = (req, normal) => {
    const taken = takenOf(req.url)
    if (taken === null) return undefined
    // HttpApiSecurity.bearer's own decoding (HttpApiBuilder.securityDecode), then the API's Auth service.
    const header = req.headers["authorization"]
    const token = header === undefined ? NO_TOKEN : Redacted.make(header.slice(BEARER.length))
    let refused = taken.refused
    if (refused?.normal !== normal) {
      const way = Effect.succeed(normal)
      // A refused token (a failure, not a defect) goes the normal way; anything else stays what it is.
      taken.refused = refused = {
        normal,
        to: (cause) => (Cause.isFailType(cause) ? way : Effect.failCause(cause))
      }
    }
    // Which app answers, then that app: cheaper steps than matchEffect's success-and-failure frame.
    return Effect.flatten(Effect.catchAllCause(Effect.as(checked(token), taken.run), refused.to))
  }
  return lane
})
