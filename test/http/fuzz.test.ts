import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { readdir } from "node:fs/promises"
import { raw, startServer } from "./support.ts"

/** Path segments a careless server trips on: traversal, encodings, control characters, huge and odd strings. */
const segment = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "AAPL%2F..",
    "CON",
    "nul",
    "~",
    "*",
    "%",
    "%zz",
    "a b",
    "€",
    "😀",
    "EUR.USD",
    "AAPL",
    "1h",
    "1d",
    "1M",
    "op_x"
  ),
  fc.string({ minLength: 200, maxLength: 400 }),
  fc.stringMatching(/^[A-Za-z0-9._\-/]{1,20}$/)
).map((s) => s.replaceAll("#", "%23").replaceAll("?", "%3F"))

const path = fc.oneof(
  fc.tuple(segment, segment).map(([a, b]) => `/api/v1/data/${a}/${b}`),
  segment.map((a) => `/api/v1/operations/${a}`),
  segment.map((a) => `/api/v1/operations/${a}/retry`),
  fc.tuple(segment, segment).map(([a, b]) => `/api/v1/gap-analysis/data/${a}/${b}/gaps`),
  fc.tuple(segment, segment).map(([a, b]) => `/api/v1/gap-analysis/data/${a}/${b}/summary`),
  fc.constantFrom(
    "/api/v1/data/load",
    "/api/v1/data/range",
    "/api/v1/gap-analysis/data/batch",
    "/api/v1/operations",
    "/api/v1/symbols",
    "/api/v1/timeframes",
    "/api/v1/data/info",
    "/api/v1/ib/symbols/discover",
    "/api/v1/ib/historical",
    "/api/v1/ib/contract",
    "/api/v1/ib/head-timestamp"
  ),
  segment.map((a) => `/api/v1/${a}`),
  segment.map((a) => `/${a}`)
)

const queryKey = fc.constantFrom(
  "start_date",
  "end_date",
  "trading_hours_only",
  "include_extended",
  "async_mode",
  "limit",
  "offset",
  "status",
  "mode",
  "include_expected",
  "active_only",
  "operation_type",
  "symbol",
  "x"
)
const queryValue = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom("true", "1", "-1", "2025-13-45", "2025-01-01", "1e309", "NaN", "", "[]", "%ff")
)
const query = fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }).map((
  kv
) => (kv.length === 0 ? "" : `?${new URLSearchParams(kv).toString()}`))

const wrongValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 })
)
/** Bodies with the right keys and wrong values, random JSON, and text that is not JSON at all. */
const body = fc.oneof(
  fc.record({
    symbol: wrongValue,
    timeframe: fc.oneof(wrongValue, fc.constantFrom("1h", "1d")),
    mode: fc.oneof(wrongValue, fc.constantFrom("local", "tail")),
    start_date: wrongValue,
    end_date: wrongValue
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.record({
    symbols: fc.array(wrongValue, { maxLength: 3 }),
    timeframe: wrongValue,
    contract: wrongValue,
    duration: wrongValue,
    barSize: wrongValue
  }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    "{",
    "[1,2",
    "null",
    "\"str\"",
    "{\"symbol\":",
    "\u0000",
    "{\"symbol\":\"AAPL\",\"timeframe\":\"1h\",\"mode\":\"local\",\"start_date\":\"2025-02-30\"}"
  ),
  fc.string({ maxLength: 200 })
)

const request = fc.record({
  method: fc.constantFrom("GET", "GET", "POST", "POST", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"),
  path,
  query,
  body: fc.option(body, { nil: undefined }),
  contentType: fc.constantFrom(
    "application/json",
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    ""
  )
})

describe("fuzz", () => {
  it.live(
    "1,200 malformed requests: no 5xx, no crash, every error in the envelope, nothing written",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer()
        const samples = fc.sample(request, { numRuns: 1200, seed: 20261127 })
        const failures: Array<string> = []
        for (const r of samples) {
          const init: RequestInit = {
            method: r.method,
            headers: r.contentType === "" ? {} : { "content-type": r.contentType }
          }
          if (r.body !== undefined && r.method !== "GET" && r.method !== "HEAD") init.body = r.body
          const res = yield* raw(s.baseUrl, `${r.path}${r.query}`, init).pipe(
            Effect.catchAllDefect((e) =>
              Effect.succeed({ status: 599, text: String(e), json: undefined, headers: new Headers() })
            )
          )
          const isEnvelopeError = res.status < 400 || r.method === "HEAD" ||
            (res.json?.success === false && typeof res.json?.error?.code === "string")
          if (res.status >= 500 || !isEnvelopeError) {
            failures.push(
              `${r.method} ${r.path}${r.query} ${r.body?.slice(0, 80) ?? ""} → ` +
                `${res.status} ${res.text.slice(0, 200)}`
            )
          }
        }
        expect(failures.slice(0, 10)).toEqual([])
        const health = yield* raw(s.baseUrl, "/api/v1/health")
        expect(health.status).toBe(200)
        // Malformed requests write nothing: at most the symbol cache of lookups that reached the gateway.
        const files = yield* Effect.promise(() => readdir(s.dataDir))
        expect(files.filter((f) => f !== "symbol_discovery_cache.json")).toEqual([])
      }).pipe(Effect.scoped),
    180_000
  )
})
