/**
 * Issue 14's server items: the API docs behind the token (or public by an explicit opt-in), a JSON body
 * nested thousands of levels deep refused with a 400 instead of a 500 from a stack overflow, and an
 * OpenAPI document with the app's version and a summary for every operation.
 */
import { describe, expect, it } from "@effect/vitest"
import { readFile, readdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Option, Redacted } from "effect"
import { issueSummary, jsonDepth, MAX_JSON_DEPTH } from "../../src/http/middleware.ts"
import { raw, startServer } from "./support.ts"

const token = Option.some(Redacted.make("s3cret-token"))
const bearer = { authorization: "Bearer s3cret-token" }
const DOCS = ["/api/v1/openapi.json", "/api/v1/docs"]

describe("hardening", () => {
  it.live("with a token the docs need it too; KTRDR_API_PUBLIC_DOCS opens them on purpose", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { token } })
      for (const path of DOCS) {
        const anonymous = yield* raw(s.baseUrl, path)
        expect(anonymous.status, path).toBe(401)
        expect(anonymous.json, path).toMatchObject({ success: false, error: { code: "UNAUTHORIZED" } })
        expect(anonymous.json.detail, path).toContain("KTRDR_API_PUBLIC_DOCS")
        expect((yield* raw(s.baseUrl, path, { headers: { authorization: "Bearer nope" } })).status, path).toBe(401)
        expect((yield* raw(s.baseUrl, path, { headers: bearer })).status, path).toBe(200)
      }
      const open = yield* startServer({ api: { token, publicDocs: true } })
      for (const path of DOCS) expect((yield* raw(open.baseUrl, path)).status, path).toBe(200)
      // Without a token nothing changes: docs are open, like the API.
      const plain = yield* startServer()
      for (const path of DOCS) expect((yield* raw(plain.baseUrl, path)).status, path).toBe(200)
    }).pipe(Effect.scoped))

  it.live("a JSON body nested 5,000 levels: 400 INVALID_BODY, no request to the gateway, nothing written", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const before = yield* Effect.promise(() => readdir(s.dataDir))
      for (const depth of [5_000, 100_000]) {
        const body = `${"[".repeat(depth)}${"]".repeat(depth)}`
        for (const path of ["/api/v1/data/load", "/api/v1/data/acquire/download", "/api/v1/gap-analysis/data/batch"]) {
          const r = yield* raw(s.baseUrl, path, {
            method: "POST",
            body,
            headers: { "content-type": "application/json" }
          })
          expect(r.status, `${path} ${depth}`).toBe(400)
          expect(r.json.error, path).toMatchObject({ code: "INVALID_BODY", details: { max_depth: MAX_JSON_DEPTH } })
        }
      }
      // A normal body still works after the guard read it (the text is shared with HttpApi's parser).
      const ok = yield* raw(s.baseUrl, "/api/v1/data/range", {
        method: "POST",
        body: JSON.stringify({ symbol: "AAPL", timeframe: "1d" }),
        headers: { "content-type": "application/json" }
      })
      expect(ok.status).toBe(404) // nothing stored yet: the body was read and understood
      expect(s.sim.stats().requests.historical).toBe(0)
      expect(yield* Effect.promise(() => readdir(s.dataDir))).toEqual(before)
    }).pipe(Effect.scoped))

  it.live("a bad choice in a 400: the field, the value and what is accepted in one line; issues in details", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const tf = yield* raw(s.baseUrl, "/api/v1/data/AAPL/3h")
      expect(tf.status).toBe(400)
      expect(tf.json.error.code).toBe("VALIDATION_ERROR")
      expect(tf.json.error.message).toBe(
        "timeframe '3h' is not accepted; use one of: 1s, 5s, 15s, 30s, 1m, 5m, 15m, 30m, 1h, 2h, 4h, 1d, 1w, 1M"
      )
      expect(tf.json.detail).toBe(tf.json.error.message)
      expect(tf.json.error.details.issues.length).toBeGreaterThan(1)
      const bool = yield* raw(s.baseUrl, "/api/v1/operations?active_only=maybe")
      expect(bool.json.error.message).toMatch(/^Invalid request: active_only: Input should be a valid boolean/)
    }).pipe(Effect.scoped))

  it("issueSummary: one literal mismatch is not a choice list; optional-field noise is skipped", () => {
    expect(issueSummary([{ path: "mode", message: "Expected \"tail\", actual \"x\"" }])).toBe(
      "Invalid request: mode: Expected \"tail\", actual \"x\""
    )
    expect(issueSummary([])).toBe("Invalid request")
  })

  it("jsonDepth: brackets inside strings and escapes do not count", () => {
    expect(jsonDepth(`{"a":[1,{"b":"[[[[\\"]]"}]}`)).toBe(3)
    expect(jsonDepth("[]")).toBe(1)
    expect(jsonDepth("42")).toBe(0)
    expect(jsonDepth("[".repeat(1000), 10)).toBe(11)
  })

  it.live("OpenAPI: the app's version, and a summary for every operation", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const spec = (yield* raw(s.baseUrl, "/api/v1/openapi.json")).json
      const pkg = JSON.parse(
        yield* Effect.promise(() =>
          readFile(join(fileURLToPath(new URL("../../", import.meta.url)), "package.json"), "utf8")
        )
      )
      expect(spec.info.version).toBe(pkg.version)
      const ops = Object.entries(spec.paths as Record<string, Record<string, { summary?: string }>>).flatMap(
        ([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, summary: op.summary }))
      )
      expect(ops.length).toBeGreaterThan(40)
      for (const op of ops) expect(op.summary, `${op.method} ${op.path}`).toMatch(/\S/)
    }).pipe(Effect.scoped))
})
