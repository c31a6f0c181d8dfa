/**
 * CORS as @effect/platform's `HttpMiddleware.cors` answers it (same headers, same preflight), computed
 * here so the request middleware sets them in the one header merge it already makes: the library's
 * version adds a pre-response handler to every request's fiber and merges headers a second time.
 * Origins: exact, or `scheme://host:*` for any port of a host (`originAllowed`).
 */
import { Headers, HttpServerResponse } from "@effect/platform"
import { originAllowed } from "../layers/ApiConfig.ts"

export const ALLOWED_HEADERS = ["authorization", "content-type", "x-request-id"]
export const EXPOSED_HEADERS = ["x-process-time", "x-request-id"]
const ALLOWED_METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]
const MAX_AGE_S = 600

export interface Cors {
  /** The CORS headers of an answer to a request from `origin` (none allowed: only the exposed list). */
  readonly headers: (origin: string | undefined) => Readonly<Record<string, string>>
  /** The answer to any OPTIONS request (a preflight): 204 with every CORS header. */
  readonly preflight: (origin: string | undefined) => HttpServerResponse.HttpServerResponse
}

export const makeCors = (origins: ReadonlyArray<string>): Cors => {
  const exposed = { "access-control-expose-headers": EXPOSED_HEADERS.join(",") }
  const allowOrigin = (origin: string | undefined) =>
    originAllowed(origin, origins) ? { "access-control-allow-origin": origin!, vary: "Origin" } : undefined
  // A browser page sends the same Origin on every request: its verdict is kept (bounded: any origin can be sent).
  const verdicts = new Map<string, Readonly<Record<string, string>>>()
  const headers = (origin: string | undefined) => {
    if (origin === undefined) return exposed
    let h = verdicts.get(origin)
    if (h === undefined) {
      h = { ...allowOrigin(origin), ...exposed }
      if (verdicts.size >= 256) verdicts.clear()
      verdicts.set(origin, h)
    }
    return h
  }
  const preflight = (origin: string | undefined) =>
    HttpServerResponse.empty({
      status: 204,
      headers: Headers.unsafeFromRecord({
        ...allowOrigin(origin),
        ...exposed,
        "access-control-allow-methods": ALLOWED_METHODS.join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS.join(","),
        "access-control-max-age": String(MAX_AGE_S)
      })
    })
  return { headers, preflight }
}
