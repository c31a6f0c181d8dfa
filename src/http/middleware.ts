/**
 * What wraps every request, outside HttpApi: CORS (preflights answered here), a request id and one
 * structured log line, the `X-Process-Time` header, the body-size limit, the docs guard, and the last
 * word on errors (failureResponse.ts) — whatever HttpApi or the router answers on its own leaves as
 * KTRDR's envelope, with CORS headers too. It runs inside HttpApi's own error encoding (an HttpApi-level
 * middleware), so it sees failures before they become responses.
 *
 * It runs on every request (bench/http-bars), so it is written for that: one fiber-runtime step reads the
 * request and the log level, a failure becomes its response before the one step that adds the headers (ids, time,
 * CORS); the log line is only built when Info is on.
 */
import { type HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Context, Effect, FiberRef, LogLevel, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { bearerOf, sameToken } from "./bearer.ts"
import { makeCors } from "./cors.ts"
import type { HotLane } from "./hotLane.ts"
import { envelope, failureResponse } from "./failureResponse.ts"

export { issueSummary } from "./failureResponse.ts"

/**
 * Request ids: a random per-process prefix and a counter — unique, cheap (a random draw per request cost
 * ~20 µs under load), and they sort in arrival order within a process.
 */
const ID_PREFIX = randomBytes(4).toString("hex")
let requestCounter = 0
const nextRequestId = () => `${ID_PREFIX}${(++requestCounter).toString(16).padStart(6, "0")}`

/** A client's own X-Request-ID, trimmed to a safe token; empty when it has nothing usable. */
const givenId = (given: string | undefined) =>
  given === undefined
    ? ""
    : given.length <= 64 && SAFE_ID.test(given)
    ? given
    : given.slice(0, 64).replace(/[^\w.-]/g, "")
const SAFE_ID = /^[\w.-]+$/

export interface RequestMiddlewareOptions {
  readonly maxBodyBytes: number
  /**
   * The token the OpenAPI document and Swagger UI need (the API's own); none when the server has no
   * token or the docs are public by choice (KTRDR_API_PUBLIC_DOCS).
   */
  readonly docsToken?: Option.Option<Redacted.Redacted<string>>
  /** Origins allowed to read answers (KTRDR_API_CORS_ORIGINS); default: none. */
  readonly corsOrigins?: ReadonlyArray<string>
  /** GET requests it can take skip HttpApi's router (hotLane.ts). */
  readonly hotLane?: HotLane | undefined
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

/** The app for a request with a body: size limits, multipart refused, JSON depth guarded. */
const bodied = (
  app: HttpApp.Default,
  req: HttpServerRequest.HttpServerRequest,
  maxBodyBytes: number
): HttpApp.Default => {
  const declared = Number(req.headers["content-length"] ?? "0")
  const contentType = (req.headers["content-type"] ?? "").toLowerCase()
  return declared > maxBodyBytes
    // A declared oversized body is refused before a byte of it is read.
    ? Effect.succeed(
      envelope(413, {
        code: "PAYLOAD_TOO_LARGE",
        message: `Request body is over ${maxBodyBytes} bytes`,
        details: { limit: maxBodyBytes }
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
    : HttpIncomingMessage.withMaxBodySize(depthGuarded(app), Option.some(maxBodyBytes))
}

const docsUnauthorized = envelope(401, {
  code: "UNAUTHORIZED",
  message: "The API docs need `Authorization: Bearer <KTRDR_API_TOKEN>` " +
    "(or start the server with KTRDR_API_PUBLIC_DOCS=true)",
  details: null
}, { "www-authenticate": "Bearer" })

export const requestMiddleware = (options: RequestMiddlewareOptions) => {
  const cors = makeCors(options.corsOrigins ?? [])
  const hotLane = options.hotLane
  const docsToken = options.docsToken !== undefined && Option.isSome(options.docsToken)
    ? Redacted.value(options.docsToken.value)
    : undefined
  return (app: HttpApp.Default): HttpApp.Default =>
    Effect.withFiberRuntime((fiber) => {
      const req = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const origin = req.headers["origin"]
      // Any OPTIONS is a preflight, answered before routing (as HttpMiddleware.cors does).
      if (req.method === "OPTIONS") return Effect.succeed(cors.preflight(origin))
      const t0 = performance.now()
      const requestId = givenId(req.headers["x-request-id"]) || nextRequestId()
      let handled: HttpApp.Default<unknown> = BODYLESS.has(req.method)
        ? (req.method === "GET" && hotLane?.(req, app)) || app
        : bodied(app, req, options.maxBodyBytes)
      // The docs describe every endpoint: behind the same token as the API, unless made public on purpose.
      if (docsToken !== undefined && isDocs(req.url) && !sameToken(bearerOf(req.headers["authorization"]), docsToken)) {
        handled = Effect.succeed(docsUnauthorized)
      }
      const logged = !LogLevel.greaterThan(fiber.getFiberRef(FiberRef.currentMinimumLogLevel), LogLevel.Info)
      const finish = (response: HttpServerResponse.HttpServerResponse) => {
        const ms = performance.now() - t0
        // One header at a time: setHeaders re-reads its input and spreads both records (~4 µs against ~0.7).
        let headed = HttpServerResponse.setHeader(response, "x-process-time", `${ms.toFixed(2)}ms`)
        headed = HttpServerResponse.setHeader(headed, "x-request-id", requestId)
        const corsHeaders = cors.headers(origin)
        for (const name in corsHeaders) headed = HttpServerResponse.setHeader(headed, name, corsHeaders[name]!)
        if (!logged) return Effect.succeed(headed)
        return Effect.logInfo(`${req.method} ${req.url} ${response.status} ${ms.toFixed(1)}ms`).pipe(
          Effect.annotateLogs({ request_id: requestId, status: response.status }),
          Effect.as(headed)
        )
      }
      // catchAllCause, then flatMap: the same as matchCauseEffect here (failureResponse does not fail), and two of
      // the runtime's cheapest steps instead of its success-and-failure frame (~1 µs more per request).
      return Effect.flatMap(
        Effect.catchAllCause(handled, (cause) => failureResponse(cause, req, requestId, options.maxBodyBytes)),
        finish
      )
    })
}
