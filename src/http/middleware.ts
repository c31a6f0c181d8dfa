/**
 * What wraps every request, outside HttpApi: a request id and one structured log line, the
 * `X-Process-Time` header, the body-size limit, and the last word on errors — whatever HttpApi or the
 * router answers on its own (schema decode failures, unknown paths, unreadable bodies, defects) leaves
 * as KTRDR's envelope with a meaningful status, never as a bare 500. It runs inside HttpApi's own error
 * encoding (an HttpApi-level middleware), so it sees failures before they become responses.
 */
import { HttpApiError, HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Cause, Effect, LogLevel, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { failureBody, statusOf, type ApiError, type ErrorBody } from "../contract/envelope.ts"
import { bearerOf, sameToken } from "./bearer.ts"

const { HttpApiDecodeError } = HttpApiError
type HttpApiDecodeError = HttpApiError.HttpApiDecodeError

/**
 * Request ids: a random per-process prefix and a counter — unique, cheap (a random draw per request cost
 * ~20 µs under load), and they sort in arrival order within a process.
 */
const ID_PREFIX = randomBytes(4).toString("hex")
let requestCounter = 0
const nextRequestId = () => `${ID_PREFIX}${(++requestCounter).toString(16).padStart(6, "0")}`

const envelope = (status: number, e: ErrorBody, headers: Record<string, string> = {}) =>
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

const API_ERRORS = new Set([
  "BadRequest",
  "Unauthorized",
  "NotFoundError",
  "Conflict",
  "PayloadTooLarge",
  "InternalError",
  "GatewayError",
  "GatewayUnavailable"
])

/** A typed API error from a handler or the auth middleware, sent as its envelope. */
const apiError = (cause: Cause.Cause<unknown>): ApiError | undefined =>
  [...Cause.failures(cause)].find((e): e is ApiError =>
    typeof e === "object" && e !== null && API_ERRORS.has((e as { _tag?: string })._tag ?? "")
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

export interface RequestMiddlewareOptions {
  readonly maxBodyBytes: number
  /**
   * The token the OpenAPI document and Swagger UI need (the API's own); none when the server has no
   * token or the docs are public by choice (KTRDR_API_PUBLIC_DOCS).
   */
  readonly docsToken?: Option.Option<Redacted.Redacted<string>>
}

/** Deeper JSON than any request of the API has (a dozen levels at most); 5,000 levels overflowed the stack. */
export const MAX_JSON_DEPTH = 64

/** How deeply a JSON text nests arrays and objects (strings skipped), stopping early past `limit`. */
export const jsonDepth = (text: string, limit = Infinity): number => {
  let depth = 0, max = 0, inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      if (++depth > max && (max = depth) > limit) return max
    } else if (c === 93 || c === 125) depth--
  }
  return max
}

/** A JSON body nested beyond MAX_JSON_DEPTH is refused before any parser or schema formatter recurses into it. */
const depthGuarded = (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(
    HttpServerRequest.HttpServerRequest,
    (req) =>
      (req.headers["content-type"] ?? "").toLowerCase().includes("json")
        // The body text is cached by the request: HttpApi's own parse reads the same string.
        // (A read failure — oversized, broken — travels as a defect that failureResponse maps, as HttpApi's would.)
        ? Effect.flatMap(Effect.orDie(req.text), (text) =>
          jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH
            ? Effect.succeed(
              envelope(400, {
                code: "INVALID_BODY",
                message: `Request body nests deeper than ${MAX_JSON_DEPTH} levels`,
                details: { max_depth: MAX_JSON_DEPTH }
              })
            )
            : app)
        : app
  )

const isDocs = (url: string) => {
  const path = url.split("?")[0]!
  return path === "/api/v1/openapi.json" || path === "/api/v1/docs" || path.startsWith("/api/v1/docs/")
}

const BODYLESS = new Set(["GET", "HEAD", "OPTIONS"])

/** The failure of a request as its envelope response (or the interruption, when the client went away). */
const failureResponse = (
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

/** Plain flatMaps rather than a generator: this runs on every request (bench/http-bars). */
export const requestMiddleware = (options: RequestMiddlewareOptions) => (app: HttpApp.Default): HttpApp.Default =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (req) => {
    const t0 = performance.now()
    const given = req.headers["x-request-id"]
    const requestId = (given === undefined ? "" : given.slice(0, 64).replace(/[^\w.-]/g, "")) || nextRequestId()
    let handled: HttpApp.Default
    if (BODYLESS.has(req.method)) handled = app
    else {
      const declared = Number(req.headers["content-length"] ?? "0")
      const contentType = (req.headers["content-type"] ?? "").toLowerCase()
      handled = declared > options.maxBodyBytes
        // A declared oversized body is refused before a byte of it is read.
        ? Effect.succeed(
          envelope(413, {
            code: "PAYLOAD_TOO_LARGE",
            message: `Request body is over ${options.maxBodyBytes} bytes`,
            details: { limit: options.maxBodyBytes }
          }, { connection: "close" })
        )
        : contentType.startsWith("multipart/")
        // No endpoint takes uploads; HttpApi would otherwise try to parse (and store) the parts.
        ? Effect.succeed(
          envelope(415, {
            code: "UNSUPPORTED_MEDIA_TYPE",
            message: "Request bodies are JSON (Content-Type: application/json)",
            details: { content_type: contentType.slice(0, 100) }
          })
        )
        : HttpIncomingMessage.withMaxBodySize(depthGuarded(app), Option.some(options.maxBodyBytes))
    }
    // The docs describe every endpoint: behind the same token as the API, unless made public on purpose.
    if (options.docsToken !== undefined && Option.isSome(options.docsToken) && isDocs(req.url)) {
      const expected = Redacted.value(options.docsToken.value)
      if (!sameToken(bearerOf(req.headers["authorization"]), expected)) {
        handled = Effect.succeed(
          envelope(401, {
            code: "UNAUTHORIZED",
            message: "The API docs need `Authorization: Bearer <KTRDR_API_TOKEN>` " +
              "(or start the server with KTRDR_API_PUBLIC_DOCS=true)",
            details: null
          }, { "www-authenticate": "Bearer" })
        )
      }
    }
    return handled.pipe(
      Effect.catchAllCause((cause) => failureResponse(cause, req, requestId, options.maxBodyBytes)),
      Effect.flatMap((response) => {
        const ms = performance.now() - t0
        const headed = HttpServerResponse.setHeaders(response, {
          "x-process-time": `${ms.toFixed(2)}ms`,
          "x-request-id": requestId
        })
        return Effect.logInfo(`${req.method} ${req.url} ${response.status} ${ms.toFixed(1)}ms`).pipe(
          Effect.annotateLogs({ request_id: requestId, status: response.status }),
          Effect.whenLogLevel(LogLevel.Info),
          Effect.as(headed)
        )
      })
    )
  })
