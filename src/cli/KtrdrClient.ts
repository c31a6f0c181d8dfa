/**
 * What every command talks to: the client derived from the one HttpApi contract, plus the two calls the
 * derived client cannot make in Effect 3 (the SSE event stream, which it would buffer whole, and a cancel
 * with its optional JSON body, which the contract leaves undeclared). Two Layers provide it — remote (a
 * keep-alive node:http agent, src/cli/remote.ts) and embedded (the same handlers in-process,
 * src/cli/embedded.ts) — differing only in the HttpClient underneath, so commands, decoding and error
 * classes are the same by construction. Types only here: importing the tag must not load the contract's
 * schemas, so `--help` and `--version` stay cheap.
 */
import type { HttpApi, HttpApiClient, HttpClientError } from "@effect/platform"
import { Context, type Effect, type ParseResult, type Stream } from "effect"
import type { OperationInfo } from "../domain/operation.ts"
import type { KtrdrApi } from "../contract/Api.ts"
import type { CancelResult } from "../contract/api/operations.ts"
import type { ApiError } from "../contract/envelope.ts"

type GroupsOf<A> = A extends HttpApi.HttpApi<infer _Id, infer G, infer _E, infer _R> ? G : never
type ErrorOf<A> = A extends HttpApi.HttpApi<infer _Id, infer _G, infer E, infer _R> ? E : never

/** The client `HttpApiClient.make(KtrdrApi)` derives. */
export type Api = HttpApiClient.Client<GroupsOf<typeof KtrdrApi>, ErrorOf<typeof KtrdrApi>, never>

/** Every failure a request can end with: the API's typed errors, transport errors, or an undecodable answer. */
export type ClientError = ApiError | HttpClientError.HttpClientError | ParseResult.ParseError

export interface OperationEvent {
  readonly event: "progress" | "end"
  readonly info: OperationInfo
}

export interface KtrdrClientService {
  /** Where requests go, for messages: the base URL, or "embedded". */
  readonly target: string
  readonly embedded: boolean
  readonly api: Api
  /** `GET /operations/:id/events`: the current state, every change, and the final `end` event. */
  readonly events: (id: string) => Stream.Stream<OperationEvent, ClientError>
  /** `DELETE /operations/:id` with `{reason}`: answers once the load's checkpoint is on disk. Never retried. */
  readonly cancel: (id: string, reason: string | null) => Effect.Effect<typeof CancelResult.Type, ClientError>
}

export class KtrdrClient extends Context.Tag("ktrdr/cli/KtrdrClient")<KtrdrClient, KtrdrClientService>() {}
