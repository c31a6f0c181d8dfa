/**
 * The last word on errors: whatever a request failed with — a typed API error, HttpApi's schema failure,
 * an unknown path, an unreadable or oversized body, a defect — as KTRDR's envelope with a meaningful
 * status, never a bare 500 (a defect is logged, and its envelope carries the request id).
 */
import { HttpApiError, type HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect } from "effect"
import { API_ERROR_TAGS, type ApiError, type ErrorBody, failureBody, statusOf } from "../contract/envelope.ts"

const { HttpApiDecodeError } = HttpApiError
type HttpApiDecodeError = HttpApiError.HttpApiDecodeError

export const envelope = (status: number, e: ErrorBody, headers: Record<string, string> = {}) =>
  HttpServerResponse.unsafeJson(failureBody(e), { status, headers })

/** Finds a RequestError (unreadable or oversized body) in a failure or a defect. */
const requestError = (
  cause: Cause.Cause<unknown>
): { readonly reason: string; readonly message: string } | undefined => {
  const found = [...Cause.failures(cause), ...Cause.defects(cause)].find(
    (e): e is { _tag: "RequestError"; reason: string; cause?: unknown } =>
      typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "RequestError"
  )
  if (!found) return undefined
  const inner = found.cause instanceof Error ? found.cause.message : String(found.cause ?? "")
  return { reason: found.reason, message: inner }
}

const routeNotFound = (cause: Cause.Cause<unknown>) =>
  [...Cause.failures(cause)].some((e) =>
    typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "RouteNotFound"
  )

/** A typed API error from a handler or the auth middleware, sent as its envelope. */
const apiError = (cause: Cause.Cause<unknown>): ApiError | undefined =>
  [...Cause.failures(cause)].find((e): e is ApiError =>
    typeof e === "object" && e !== null && API_ERROR_TAGS.has((e as { _tag?: string })._tag ?? "")
  )

const LITERAL = /^Expected "([^"]*)", actual "([^"]*)"$/

/**
 * One line a person can act on from a schema failure: a value outside a set of choices (a union of
 * literals fails once per choice) says the field, the value and every accepted one; otherwise the first
 * issue, without the optional-field noise ("Expected undefined") that unions add.
 */
export const issueSummary = (issues: ReadonlyArray<{ readonly path: string; readonly message: string }>): string => {
  const first = issues.find((i) => !i.message.startsWith("Expected undefined")) ?? issues[0]
  if (!first) return "Invalid request"
  const choices = issues.filter((i) => i.path === first.path).map((i) => LITERAL.exec(i.message)).filter(
    (m): m is RegExpExecArray => m !== null
  )
  const field = first.path === "" ? "the body" : first.path
  if (choices.length > 1 && choices.every((m) => m[2] === choices[0]![2])) {
    return `${field} '${choices[0]![2]}' is not accepted; use one of: ${choices.map((m) => m[1]).join(", ")}`
  }
  return `Invalid request: ${first.path === "" ? "" : `${first.path}: `}${first.message}`
}

/** HttpApi's schema failure (path, query, body) as the envelope: one clear line, the issues in `details`. */
const decodeError = (cause: Cause.Cause<unknown>) => {
  const e = [...Cause.failures(cause)].find((x): x is HttpApiDecodeError => x instanceof HttpApiDecodeError)
  if (!e) return undefined
  const all = e.issues.map((i) => ({ path: i.path.join("."), message: i.message }))
  const message = issueSummary(all)
  return envelope(400, { code: "VALIDATION_ERROR", message, details: { issues: all.slice(0, 20) } })
}

/** The failure of a request as its envelope response (or the interruption, when the client went away). */
export const failureResponse = (
  cause: Cause.Cause<unknown>,
  req: HttpServerRequest.HttpServerRequest,
  requestId: string,
  maxBodyBytes: number
) => {
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  const typed = apiError(cause)
  if (typed) return Effect.succeed(envelope(statusOf(typed), typed))
  const invalid = decodeError(cause)
  if (invalid) return Effect.succeed(invalid)
  if (routeNotFound(cause)) {
    return Effect.succeed(
      envelope(404, { code: "NOT_FOUND", message: `No endpoint ${req.method} ${req.url.split("?")[0]}`, details: null })
    )
  }
  const bodyError = requestError(cause)
  if (bodyError?.message.includes("maxBytes")) {
    return Effect.succeed(
      envelope(413, {
        code: "PAYLOAD_TOO_LARGE",
        message: `Request body is over ${maxBodyBytes} bytes`,
        details: { limit: maxBodyBytes }
      })
    )
  }
  if (bodyError) {
    return Effect.succeed(
      envelope(400, {
        code: "INVALID_BODY",
        message: `Request body could not be read: ${bodyError.message.slice(0, 200)}`,
        details: null
      })
    )
  }
  return Effect.logError("unhandled failure", cause).pipe(
    Effect.as(
      envelope(500, {
        code: "INTERNAL_SERVER_ERROR",
        message: "An unexpected error occurred",
        details: { request_id: requestId }
      })
    )
  )
}
