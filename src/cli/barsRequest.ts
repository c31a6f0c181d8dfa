/**
 * `GET /api/v1/data/{symbol}/{timeframe}` for `ktrdr data show` in remote mode, straight over node:http:
 * the derived HttpApiClient's request path (HttpClient pipeline, response streams, the whole contract's
 * schemas) was ~30 ms of a ~150 ms command. The request and its answer go through the endpoint's own
 * schemas (DataGroup), so what is sent, decoded and failed with is the derived client's:
 * - the path and query are encoded by the endpoint's schemas, and the URL is built as the platform builds it;
 * - a 200 is decoded by the endpoint's success schema; a 400, 401, 404 or 500 into the error class the
 *   derived client decodes for that status (the same wire schemas: the bars endpoint's group errors and
 *   the Auth middleware's);
 * - a transport failure is the platform's RequestError (reason "Transport", the node error as its cause).
 * Anything else — https, another status, a body that is not JSON or does not match its schema, a URL the
 * platform would refuse — is sent again through the derived client (`fallback`), which fails exactly as
 * before (its ParseError and ResponseError texts name its own schemas). These are error paths only, and
 * GET /data is read-only.
 */
import type { HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Option, Schema } from "effect"
import * as Http from "node:http"
import { DataGroup } from "../contract/api/data.ts"
import { BadRequestWire, InternalWire, NotFoundWire, UnauthorizedWire } from "../contract/envelope.ts"
import type { Api, ClientError } from "./KtrdrClient.ts"

type Bars = Api["data"]["bars"]
type BarsRequest = Parameters<Bars>[0]
type BarsAnswer = Effect.Effect.Success<ReturnType<Bars>>

type BarsEndpoint = HttpApiEndpoint.HttpApiEndpoint.WithName<
  HttpApiGroup.HttpApiGroup.Endpoints<typeof DataGroup>,
  "bars"
>
const endpoint = DataGroup.endpoints["bars"] as BarsEndpoint
const encodePath = Schema.encodeUnknown(Option.getOrThrow(endpoint.pathSchema))
const encodeUrlParams = Schema.encodeUnknown(Option.getOrThrow(endpoint.urlParamsSchema))
const decodeSuccess = Schema.decodeUnknown(endpoint.successSchema)

/** The statuses the derived client decodes into an error class for this endpoint, with their wire schemas. */
const ERRORS: Readonly<Record<number, Schema.Schema<any, any>>> = {
  400: BadRequestWire,
  401: UnauthorizedWire,
  404: NotFoundWire,
  500: InternalWire
}

/** What came back: a status and the body read as the derived client reads it (UTF-8, empty = undefined). */
type Reply = { readonly _tag: "Reply"; readonly status: number; readonly body: string }

/** The answer in JSON, or undefined when the body is no JSON (the derived client then fails its own way). */
const parseJson = (body: string): { readonly value: unknown } | undefined => {
  if (body === "") return { value: undefined }
  try {
    return { value: JSON.parse(body) }
  } catch {
    return undefined
  }
}

export interface BarsRequestOptions {
  readonly baseUrl: string
  readonly token: Option.Option<string>
  readonly agent: Http.Agent
  /** The derived client's `data.bars`, for everything this fast path does not answer itself. */
  readonly fallback: Bars
}

/** One GET through the agent; interruption (Ctrl-C) destroys the request. */
const get = (
  url: URL,
  headers: Record<string, string>,
  agent: Http.Agent,
  request: HttpClientRequest.HttpClientRequest
) =>
  Effect.async<Reply, HttpClientError.RequestError>((resume) => {
    const transport = (cause: unknown) =>
      resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
    const req = Http.request(url, { agent, method: "GET", headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => void chunks.push(c))
      res.on("error", transport)
      res.on("end", () =>
        resume(Effect.succeed({
          _tag: "Reply",
          status: res.statusCode ?? 0,
          body: new TextDecoder().decode(Buffer.concat(chunks))
        })))
    })
    req.on("error", transport)
    req.end()
    return Effect.sync(() => void req.destroy())
  })

export const barsRequest = (o: BarsRequestOptions): Bars => {
  const headers: Record<string, string> = Option.match(o.token, {
    onNone: () => ({}),
    onSome: (t) => ({ authorization: `Bearer ${t}` })
  })
  const run = (r: BarsRequest) =>
    Effect.gen(function*() {
      const path = (yield* encodePath(r.path)) as { readonly symbol: string; readonly timeframe: string }
      const params = (yield* encodeUrlParams(r.urlParams)) as Record<string, string | undefined>
      const href = `${o.baseUrl}/api/v1/data/${path.symbol}/${path.timeframe}`
      let url: URL
      try {
        url = new URL(href)
      } catch {
        return Option.none()
      }
      // https goes through the derived client's TLS agent.
      if (url.protocol !== "http:") return Option.none()
      const query: Array<[string, string]> = []
      for (const [k, v] of Object.entries(params)) {
        if (v === undefined) continue
        url.searchParams.append(k, v)
        query.push([k, v])
      }
      const request = HttpClientRequest.get(href, { urlParams: query, headers })
      const reply = yield* get(url, headers, o.agent, request)
      const json = parseJson(reply.body)
      if (json === undefined) return Option.none()
      if (reply.status === 200) {
        return yield* decodeSuccess(json.value).pipe(Effect.option)
      }
      const wire = ERRORS[reply.status]
      if (wire === undefined) return Option.none()
      const failure = yield* Schema.decodeUnknown(wire)(json.value).pipe(Effect.option)
      if (Option.isNone(failure)) return Option.none()
      return yield* Effect.fail(failure.value as ClientError)
    })
  return ((r: BarsRequest) =>
    r.withResponse === true
      ? o.fallback(r)
      : run(r).pipe(
        Effect.flatMap(Option.match({
          onNone: () => o.fallback(r) as Effect.Effect<BarsAnswer, ClientError>,
          onSome: Effect.succeed
        }))
      )) as Bars
}
