/**
 * Who asked: gateway requests as they reach the wire, reported to whoever set `RequestLog` around the
 * work (a load counts its own requests this way — retries included, also the ones IbClient makes by
 * itself after a pacing violation — without IbClient knowing about loads). A FiberRef, so the requests
 * of forked fibers (segments fetched in parallel) are reported too.
 */
import { Effect, type Exit, FiberRef } from "effect"
import type { IbError } from "../domain/errors.ts"
import type { IbErrorCategory } from "../domain/IbErrorCodes.ts"

export type RequestKind = "historical" | "contractDetails" | "headTimestamp" | "currentTime"

export interface RequestEvent {
  readonly kind: RequestKind
  /** "ok", the failure's category, or "interrupted" (cancelled at the gateway). */
  readonly outcome: "ok" | "interrupted" | IbErrorCategory
}

export type RequestListener = (e: RequestEvent) => Effect.Effect<void>

export const RequestLog: FiberRef.FiberRef<RequestListener | null> = FiberRef.unsafeMake<RequestListener | null>(null)

/** Reports one request that was sent, with how it ended. */
export const logRequest = (e: RequestEvent): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(RequestLog), (l) => (l === null ? Effect.void : l(e)))

/** `Effect.onExit(logExit(kind))`: reports a sent request with the way its exit ended. */
export const logExit = (kind: RequestKind) => <A>(exit: Exit.Exit<A, IbError>): Effect.Effect<void> =>
  logRequest({
    kind,
    outcome: exit._tag === "Success" ? "ok" : exit.cause._tag === "Fail" ? exit.cause.error.category : "interrupted"
  })
