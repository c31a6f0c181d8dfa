/**
 * The KtrdrClient service over whatever HttpClient is in context (remote: node:http keep-alive agent;
 * embedded: the API's handlers in-process). Captured once per command, so every request of the command
 * shares one connection pool.
 */
import { HttpApiClient, HttpClient, HttpClientRequest, type HttpClientResponse } from "@effect/platform"
import { Effect, Option, Schema, Stream } from "effect"
import { OperationInfo } from "../domain/operation.ts"
import { KtrdrApi } from "../contract/Api.ts"
import { CancelResult } from "../contract/api/operations.ts"
import {
  type ApiError,
  BadRequest,
  Conflict,
  Envelope,
  ErrorBody,
  GatewayError,
  GatewayUnavailable,
  InternalError,
  NotFoundError,
  PayloadTooLarge,
  Unauthorized
} from "../contract/envelope.ts"
import { type Api, KtrdrClient, type ClientError, type OperationEvent } from "./KtrdrClient.ts"
import { sseEvents } from "./sse.ts"

/** Status → the error class the derived client decodes for it (raw requests decode the same way). */
const ERRORS: Record<number, new(b: ErrorBody) => ApiError> = {
  400: BadRequest,
  401: Unauthorized,
  404: NotFoundError,
  409: Conflict,
  413: PayloadTooLarge,
  500: InternalError,
  502: GatewayError,
  503: GatewayUnavailable
}

const decodeFailure = Schema.decodeUnknown(Schema.Struct({ error: ErrorBody }))

const failFromEnvelope = (res: HttpClientResponse.HttpClientResponse): Effect.Effect<never, ClientError> =>
  res.json.pipe(
    Effect.flatMap(decodeFailure),
    Effect.orElseSucceed(() => ({
      error: { code: `HTTP-${res.status}`, message: `HTTP ${res.status} from ${res.request.url}`, details: null }
    })),
    Effect.flatMap(({ error }) => Effect.fail(new (ERRORS[res.status] ?? InternalError)(error)))
  )

const decodeInfo = Schema.decodeUnknown(Schema.parseJson(OperationInfo))
const decodeCancel = Schema.decodeUnknown(Envelope(CancelResult))

/**
 * The derived client, one group at a time: `HttpApiClient.make` derives every endpoint of every group
 * (~20 ms of schema work at start-up); a command uses one or two groups, derived on first use.
 */
const lazyGroups = (httpClient: HttpClient.HttpClient, baseUrl: string): Api => {
  const api: Record<string, unknown> = {}
  for (const group of Object.keys(KtrdrApi.groups)) {
    let derived: unknown
    Object.defineProperty(api, group, {
      enumerable: true,
      get: () => (derived ??= Effect.runSync(
        HttpApiClient.group(KtrdrApi, { group: group as keyof Api, httpClient, baseUrl })
      ))
    })
  }
  return api as Api
}

export interface ClientOptions {
  readonly baseUrl: string
  readonly token: Option.Option<string>
  readonly embedded: boolean
}

export const makeKtrdrClient = (o: ClientOptions) =>
  Effect.gen(function*() {
    const authorize = (c: HttpClient.HttpClient) =>
      Option.match(o.token, {
        onNone: () => c,
        onSome: (t) => HttpClient.mapRequest(c, HttpClientRequest.bearerToken(t))
      })
    const base = authorize(yield* HttpClient.HttpClient)
    const http = base.pipe(HttpClient.mapRequest(HttpClientRequest.prependUrl(o.baseUrl)))
    const api = lazyGroups(base, o.baseUrl)

    const events = (id: string): Stream.Stream<OperationEvent, ClientError> =>
      http.get(`/api/v1/operations/${encodeURIComponent(id)}/events`, { headers: { accept: "text/event-stream" } })
        .pipe(
          Effect.flatMap((res) => (res.status === 200 ? Effect.succeed(res.stream) : failFromEnvelope(res))),
          Stream.unwrap,
          Stream.decodeText(),
          sseEvents,
          Stream.filter((e) => e.event === "progress" || e.event === "end"),
          Stream.mapEffect((e) =>
            Effect.map(
              decodeInfo(e.data),
              (info): OperationEvent => ({ event: e.event as OperationEvent["event"], info })
            )
          )
        )

    const cancel = (id: string, reason: string | null) =>
      HttpClientRequest.del(`/api/v1/operations/${encodeURIComponent(id)}`).pipe(
        HttpClientRequest.bodyUnsafeJson(reason === null ? {} : { reason }),
        http.execute,
        Effect.flatMap((
          res
        ) => (res.status >= 200 && res.status < 300 ? Effect.flatMap(res.json, decodeCancel) : failFromEnvelope(res))),
        Effect.map((e) => e.data)
      )

    return KtrdrClient.of({ target: o.embedded ? "embedded" : o.baseUrl, embedded: o.embedded, api, events, cancel })
  })
