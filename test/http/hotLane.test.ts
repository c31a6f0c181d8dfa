import { describe, expect, it } from "@effect/vitest"
import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Effect, Layer, Option, Redacted } from "effect"
import { copyFile, mkdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Auth } from "../../src/contract/api/auth.ts"
import { Unauthorized } from "../../src/contract/envelope.ts"
import type { BarsQuery } from "../../src/http/barsRead.ts"
import { BarsReader } from "../../src/http/barsReader.ts"
import { type HotLane, makeHotLane } from "../../src/http/hotLane.ts"
import { raw, startServer, tempDir } from "./support.ts"

const FIXTURES = fileURLToPath(new URL("../fixtures/ktrdr/", import.meta.url))

/** The lane over a reader that answers with the query it was given and an Auth that wants "secret". */
const laneWithStubs = Effect.gen(function*() {
  const lane = yield* makeHotLane
  expect(lane, "the contract still lets the lane stand in for the router").toBeDefined()
  return lane!
}).pipe(
  Effect.provide(Layer.succeed(
    BarsReader,
    {
      bars: (q: BarsQuery) => Effect.succeed(HttpServerResponse.unsafeJson(q))
    } as unknown as BarsReader["Type"]
  )),
  Effect.provide(Layer.succeed(
    Auth,
    {
      bearer: (t: Redacted.Redacted<string>) =>
        Redacted.value(t) === "secret"
          ? Effect.void
          : Effect.fail(new Unauthorized({ code: "UNAUTHORIZED", message: "no", details: null }))
    } as unknown as Auth["Type"]
  ))
)

const NORMAL = Effect.succeed(HttpServerResponse.text("normal way"))

/** What the lane answers for `url` (or "not taken"), as text. */
const answer = (lane: HotLane, url: string, token = "secret") =>
  Effect.gen(function*() {
    const req = HttpServerRequest.fromWeb(
      new Request(`http://x${url}`, { headers: { authorization: `Bearer ${token}` } })
    )
    const app = lane(req, NORMAL)
    if (app === undefined) return "not taken"
    const res = yield* Effect.provideService(app, HttpServerRequest.HttpServerRequest, req)
    const web = HttpApp.toWebHandler(Effect.succeed(res))
    return yield* Effect.promise(() => web(new Request("http://x/")).then((r) => r.text()))
  })

describe("hot lane", () => {
  it.effect("takes GET /data/{symbol}/{timeframe} with the endpoint's own decoding", () =>
    Effect.gen(function*() {
      const lane = yield* laneWithStubs
      expect(JSON.parse(yield* answer(lane, "/api/v1/data/AAPL/1h"))).toEqual({ symbol: "AAPL", timeframe: "1h" })
      // NumberFromString and the Python booleans decode as the contract says
      expect(
        JSON.parse(yield* answer(lane, "/api/v1/data/EURUSD/5m?limit=5&trading_hours_only=True&end_date=2024-01-02"))
      ).toEqual({
        symbol: "EURUSD",
        timeframe: "5m",
        limit: 5,
        trading_hours_only: true,
        end_date: "2024-01-02"
      })
    }))

  it.effect("leaves everything it cannot read as the router would, or that fails, to the normal way", () =>
    Effect.gen(function*() {
      const lane = yield* laneWithStubs
      for (
        const url of [
          "/api/v1/data/AAPL/2x", // not a timeframe: the normal way answers 400
          "/api/v1/data/AAPL/1h?limit=abc",
          "/api/v1/data/AAPL/1h?limit=1&limit=2",
          "/api/v1/data/AAPL/1h?start_date=2024%2D01%2D01",
          "/api/v1/data/A%41PL/1h",
          "/api/v1/data/AAPL/1h/",
          "/api/v1/data/AAPL",
          "/api/v1/data/info",
          "/api/v1/gap-analysis/data/AAPL/1h/gaps",
          "/api/v1/dat/AAPL/1h"
        ]
      ) {
        expect(yield* answer(lane, url), url).toBe("not taken")
      }
      // A refused token: the normal way answers (with the same Auth), so a 401 has one source.
      expect(yield* answer(lane, "/api/v1/data/AAPL/1h", "wrong")).toBe("normal way")
    }))

  it.live("on a server with a token: the lane's answer equals the router's, byte for byte; no token is a 401", () =>
    Effect.gen(function*() {
      const dataDir = join(yield* tempDir("ktrdr-lane-"), "data")
      yield* Effect.promise(() => mkdir(dataDir))
      yield* Effect.promise(() => copyFile(join(FIXTURES, "AAPL_1h.csv"), join(dataDir, "AAPL_1h.csv")))
      const s = yield* startServer({ dataDir, api: { token: Option.some(Redacted.make("t0ken")) } })
      const headers = { authorization: "Bearer t0ken", origin: "http://localhost:5173" }
      const lane = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h?limit=50", { headers })
      // An escaped character sends the same request through HttpApi's router
      const router = yield* raw(s.baseUrl, "/api/v1/data/AAP%4C/1h?limit=50", { headers })
      expect(lane.status).toBe(200)
      expect(lane.json.data.dates).toHaveLength(50)
      expect(router.status).toBe(200)
      expect(lane.text).toBe(router.text)
      for (const h of ["content-type", "access-control-allow-origin", "access-control-expose-headers", "vary"]) {
        expect(lane.headers.get(h), h).toBe(router.headers.get(h))
      }
      expect(lane.headers.get("x-request-id")).toMatch(/^[0-9a-f]{14,}$/)
      const none = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")
      expect(none.status).toBe(401)
      expect(none.json.error.code).toBe("UNAUTHORIZED")
      const bad = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1x", { headers })
      expect(bad.status).toBe(400)
      expect(bad.json.error.code).toBe("VALIDATION_ERROR")
    }).pipe(Effect.scoped))
})
