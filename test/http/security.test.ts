import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import { apiClient, raw, startServer } from "./support.ts"

const token = Option.some(Redacted.make("s3cret-token"))

describe("security", () => {
  it.live("with a token every endpoint but /health needs the bearer token", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { token } })
      expect((yield* raw(s.baseUrl, "/api/v1/health")).status).toBe(200)
      const none = yield* raw(s.baseUrl, "/api/v1/operations")
      expect(none.status).toBe(401)
      expect(none.json).toMatchObject({ success: false, data: null, error: { code: "UNAUTHORIZED" } })
      expect(none.json.error.message).toContain("Authorization: Bearer")
      const wrong = yield* raw(s.baseUrl, "/api/v1/operations", { headers: { authorization: "Bearer s3cret-tokeX" } })
      expect(wrong.status).toBe(401)
      const load = yield* raw(s.baseUrl, "/api/v1/data/load", {
        method: "POST",
        body: JSON.stringify({ symbol: "AAPL", timeframe: "1d", mode: "tail" }),
        headers: { "content-type": "application/json" }
      })
      expect(load.status).toBe(401)
      expect(s.sim.stats().requests.historical).toBe(0)
      const right = yield* raw(s.baseUrl, "/api/v1/operations", { headers: { authorization: "Bearer s3cret-token" } })
      expect(right.status).toBe(200)
      // The derived client sends the token the same way.
      const client = yield* apiClient(s.baseUrl, "s3cret-token")
      expect((yield* client.operations.list({ urlParams: {} })).success).toBe(true)
      const anonymous = yield* apiClient(s.baseUrl)
      const denied = yield* anonymous.operations.list({ urlParams: {} }).pipe(Effect.flip)
      expect(denied).toMatchObject({ _tag: "Unauthorized", code: "UNAUTHORIZED" })
    }).pipe(Effect.scoped))

  it.live("binding a non-loopback address without a token refuses to start; with a token it starts", () =>
    Effect.gen(function*() {
      const refused = yield* startServer({ api: { host: "0.0.0.0" } }).pipe(Effect.exit)
      expect(Exit.isFailure(refused)).toBe(true)
      expect(String(Exit.isFailure(refused) ? refused.cause : "")).toContain("needs KTRDR_API_TOKEN")
      const s = yield* startServer({ api: { host: "0.0.0.0", token } })
      const health = yield* raw(s.baseUrl, "/api/v1/health")
      expect(health.status).toBe(200)
    }).pipe(Effect.scoped))

  it.live("CORS: localhost origins allowed by default, others get no allow-origin; preflight answered", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const local = yield* raw(s.baseUrl, "/api/v1/health", { headers: { origin: "http://localhost:5173" } })
      expect(local.headers.get("access-control-allow-origin")).toBe("http://localhost:5173")
      const evil = yield* raw(s.baseUrl, "/api/v1/health", { headers: { origin: "http://evil.example" } })
      expect(evil.headers.get("access-control-allow-origin")).toBeNull()
      const tricky = yield* raw(s.baseUrl, "/api/v1/health", {
        headers: { origin: "http://localhost:80.evil.example" }
      })
      expect(tricky.headers.get("access-control-allow-origin")).toBeNull()
      const pre = yield* raw(s.baseUrl, "/api/v1/data/load", {
        method: "OPTIONS",
        headers: {
          origin: "http://127.0.0.1:3000",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type"
        }
      })
      expect(pre.status).toBeLessThan(300)
      expect(pre.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:3000")
      expect(pre.headers.get("access-control-allow-headers")).toContain("authorization")
      // Error envelopes carry CORS headers too, so a browser page can read them.
      const notFound = yield* raw(s.baseUrl, "/api/v1/nope", { headers: { origin: "http://localhost:5173" } })
      expect(notFound.status).toBe(404)
      expect(notFound.headers.get("access-control-allow-origin")).toBe("http://localhost:5173")
    }).pipe(Effect.scoped))

  it.live("configured origins replace the defaults", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { corsOrigins: ["https://charts.example.com"] } })
      const ok = yield* raw(s.baseUrl, "/api/v1/health", { headers: { origin: "https://charts.example.com" } })
      expect(ok.headers.get("access-control-allow-origin")).toBe("https://charts.example.com")
      const local = yield* raw(s.baseUrl, "/api/v1/health", { headers: { origin: "http://localhost:5173" } })
      expect(local.headers.get("access-control-allow-origin")).toBeNull()
    }).pipe(Effect.scoped))

  it.live("every answer has X-Process-Time and a request id; a given X-Request-ID is echoed", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const r = yield* raw(s.baseUrl, "/api/v1/health", { headers: { "x-request-id": "abc-123" } })
      expect(r.headers.get("x-process-time")).toMatch(/^\d+\.\d{2}ms$/)
      expect(r.headers.get("x-request-id")).toBe("abc-123")
      const e = yield* raw(s.baseUrl, "/api/v1/operations?limit=x")
      expect(e.headers.get("x-process-time")).toMatch(/ms$/)
      expect(e.headers.get("x-request-id")).toMatch(/^[0-9a-f]{14,}$/)
    }).pipe(Effect.scoped))

  it.live("body size limit: an oversized body is refused with 413 before it is read", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { maxBodyBytes: 4096 } })
      const big = yield* raw(s.baseUrl, "/api/v1/data/load", {
        method: "POST",
        body: JSON.stringify({ symbol: "AAPL", timeframe: "1d", pad: "x".repeat(10_000) }),
        headers: { "content-type": "application/json" }
      })
      expect(big.status).toBe(413)
      expect(big.json.error.code).toBe("PAYLOAD_TOO_LARGE")
      expect(s.sim.stats().requests.contractDetails).toBe(0)
    }).pipe(Effect.scoped))

  it.live("OpenAPI document and docs page", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const spec = yield* raw(s.baseUrl, "/api/v1/openapi.json")
      expect(spec.status).toBe(200)
      expect(spec.json.openapi).toBe("3.1.0")
      expect(Object.keys(spec.json.paths)).toEqual(
        expect.arrayContaining(["/api/v1/health", "/api/v1/data/load", "/api/v1/operations/{id}/events"])
      )
      const docs = yield* raw(s.baseUrl, "/api/v1/docs")
      expect(docs.status).toBe(200)
      expect(docs.text).toContain("swagger")
    }).pipe(Effect.scoped))
})
