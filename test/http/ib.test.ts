import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { readdir } from "node:fs/promises"
import { apiClient, raw, startServer } from "./support.ts"

const json = (body: unknown, method = "POST"): RequestInit => ({
  method,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

const AAPL = { conId: 265598, exchange: "SMART" }
const aaplDay = {
  contract: AAPL,
  end: Date.UTC(2025, 0, 2, 21, 0),
  duration: "1 D",
  barSize: "1 hour",
  whatToShow: "TRADES" as const,
  useRTH: true,
  timeZone: "US/Eastern"
}

/** Polls an effect until `check` holds (fails the test after `ms`). */
const until = <A, E, R>(what: string, get: Effect.Effect<A, E, R>, check: (a: A) => boolean, ms = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    for (;;) {
      const a = yield* get
      if (check(a)) return a
      if (Date.now() > deadline) {
        return yield* Effect.die(new Error(`timed out waiting for ${what}; last value ${JSON.stringify(a)}`))
      }
      yield* Effect.sleep("50 millis")
    }
  })

describe("/api/v1/ib (KTRDR endpoints)", () => {
  it.live("status: the live session, this process's request counters and pacing, in KTRDR's shape", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const found = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "AAPL" }))
      expect(found.status).toBe(200)
      const r = yield* raw(s.baseUrl, "/api/v1/ib/status")
      expect(r.status).toBe(200)
      expect(r.json.success).toBe(true)
      const d = r.json.data
      expect(d.connection).toMatchObject({ connected: true, host: "127.0.0.1", port: s.sim.port, client_id: 1 })
      expect(Date.parse(d.connection.connection_time)).toBeLessThanOrEqual(Date.now())
      expect(d.connection_metrics).toMatchObject({
        total_connections: 1,
        failed_connections: 0,
        last_disconnect_time: null
      })
      expect(d.connection_metrics.uptime_seconds).toBeGreaterThanOrEqual(0)
      // KTRDR's epoch-seconds floats
      expect(d.connection_metrics.last_connect_time).toBe(Date.parse(d.connection.connection_time) / 1000)
      // AAPL resolved with one contract-details request; nothing failed yet.
      expect(d.data_metrics).toMatchObject({
        total_requests: 1,
        successful_requests: 1,
        failed_requests: 0,
        success_rate: 100
      })
      expect(d).toMatchObject({
        ib_available: true,
        mode: "direct",
        simulated: true,
        state: "Ready",
        farms: { hmds: "ok", connectivity: "ok" },
        host_service: null,
        last_error: null
      })
      expect(d.server_version).toBeGreaterThan(100)

      // A failure is counted, and shown with its IB code.
      const unknown = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "NOPE" }))
      expect(unknown.status).toBe(200)
      expect(unknown.json.data.symbol_info).toBeNull()
      const after = (yield* apiClient(s.baseUrl).pipe(Effect.flatMap((c) => c.ib.status()))).data
      expect(after.data_metrics.failed_requests).toBeGreaterThan(0)
      expect(after.data_metrics.failed_by_category["no-security-definition"]).toBe(after.data_metrics.failed_requests)
      expect(after.data_metrics.success_rate).toBeCloseTo(100 / after.data_metrics.total_requests)
      expect(after.last_error).toMatchObject({ code: "IB-200", ib_code: 200, category: "no-security-definition" })
      expect(s.sim.stats().totalConnections).toBe(1)
    }).pipe(Effect.scoped))

  it.live("health reads state only: no connection, no gateway request; a lost gateway is 503 IB-UNHEALTHY", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const client = yield* apiClient(s.baseUrl)
      yield* until("gateway ready", raw(s.baseUrl, "/api/v1/ib/health"), (r) => r.status === 200)
      const before = s.sim.stats()
      for (let i = 0; i < 5; i++) {
        const r = yield* raw(s.baseUrl, "/api/v1/ib/health")
        expect(r.status).toBe(200)
        expect(r.json.data).toEqual({
          healthy: true,
          connection_ok: true,
          data_fetching_ok: true,
          last_successful_request: null,
          error_message: null,
          mode: "direct",
          state: "Ready"
        })
      }
      expect((yield* client.ib.health()).data.healthy).toBe(true)
      const after = s.sim.stats()
      expect(after.totalConnections).toBe(before.totalConnections)
      expect(after.totalConnections).toBe(1)
      expect(after.requests).toEqual(before.requests)

      // The gateway goes away and refuses new connections: unhealthy, and health itself still connects nothing.
      yield* Effect.promise(() => s.sim.setFaults({ refuseConnections: true, dropConnections: true }))
      const down = yield* until("unhealthy", raw(s.baseUrl, "/api/v1/ib/health"), (r) => r.status === 503)
      expect(down.json).toMatchObject({ success: false, data: null, error: { code: "IB-UNHEALTHY" } })
      expect(down.json.error.message).toContain("IB connection is unhealthy")
      expect(down.json.error.details).toMatchObject({
        healthy: false,
        connection_ok: false,
        data_fetching_ok: false,
        mode: "direct"
      })
      expect(down.json.error.details.error_message).toMatch(/IB connection is (reconnecting|Connecting|Reconnecting)/)
      const typed = yield* client.ib.health().pipe(Effect.flip)
      expect(typed).toMatchObject({ _tag: "GatewayUnavailable", code: "IB-UNHEALTHY" })
      expect(s.sim.stats().totalConnections).toBe(1)
      // Status now dates the disconnect.
      const status = yield* raw(s.baseUrl, "/api/v1/ib/status")
      expect(status.json.data.connection_metrics.last_disconnect_time * 1000).toBeGreaterThan(Date.now() - 60_000)
    }).pipe(Effect.scoped))

  it.live("config: the real connection settings and the pace gate's rules", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const r = yield* raw(s.baseUrl, "/api/v1/ib/config")
      expect(r.status).toBe(200)
      expect(r.json.data).toEqual({
        host: "127.0.0.1",
        port: s.sim.port,
        client_id: 1,
        client_id_range: { min: 1, max: 3 },
        timeout: 10,
        connect_timeout: 2,
        readonly: true,
        rate_limit: {
          max_requests: 60,
          period_seconds: 600,
          pacing_delay: 0,
          burst_max: 5,
          burst_period_seconds: 2,
          identical_request_seconds: 15,
          max_in_flight: 4
        },
        mode: "direct",
        host_service_url: null
      })
    }).pipe(Effect.scoped))

  it.live("discover: IB's contract facts; cached only when served from the cache; force_refresh asks IB", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const first = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "aapl" }))
      expect(first.status).toBe(200)
      expect(first.json.data.cached).toBe(false)
      expect(first.json.data.discovery_time_ms).toBeGreaterThan(0)
      const info = first.json.data.symbol_info
      expect(info).toMatchObject({
        symbol: "AAPL",
        instrument_type: "stock",
        exchange: "NASDAQ",
        currency: "USD",
        validation_count: 1,
        is_active: true,
        series_key: "AAPL",
        sec_type: "STK",
        con_id: 265598,
        routing_exchange: "SMART",
        time_zone: "America/New_York",
        expiry: null
      })
      expect(info.description.length).toBeGreaterThan(0)
      expect(info.trading_hours.length).toBeGreaterThan(0)
      expect(info.discovered_at).toBe(info.last_validated)
      expect(info.last_validated * 1000).toBeGreaterThan(Date.now() - 60_000) // epoch seconds
      const lookups = s.sim.stats().requests.contractDetails

      const again = yield* (yield* apiClient(s.baseUrl)).ib.discover({ payload: { symbol: "AAPL" } })
      expect(again.data.cached).toBe(true)
      expect(again.data.symbol_info?.last_validated).toBe(info.last_validated)
      expect(s.sim.stats().requests.contractDetails).toBe(lookups)

      const forced = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "AAPL", force_refresh: true }))
      expect(forced.json.data.cached).toBe(false)
      expect(forced.json.data.symbol_info.last_validated).toBeGreaterThanOrEqual(info.last_validated)
      expect(s.sim.stats().requests.contractDetails).toBe(lookups + 1)
      // The refreshed entry replaced the cached one.
      const after = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "AAPL" }))
      expect(after.json.data.cached).toBe(true)
      expect(after.json.data.symbol_info.last_validated).toBe(forced.json.data.symbol_info.last_validated)

      const fx = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "EUR/USD" }))
      expect(fx.json.data.symbol_info).toMatchObject({
        symbol: "EUR.USD",
        instrument_type: "forex",
        series_key: "EURUSD",
        currency: "USD"
      })
    }).pipe(Effect.scoped))

  it.live(
    "discover errors: unknown → 200 with symbol_info null (KTRDR) and IB-200 with suggestions; " +
      "path-like, empty, missing → 400; nothing written",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer()
        const unknown = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "AAPLL" }))
        expect(unknown.status).toBe(200)
        expect(unknown.json).toMatchObject({
          success: true,
          data: { symbol_info: null, cached: false, not_found: { code: "IB-200" } },
          error: null
        })
        expect(unknown.json.data.not_found.details).toMatchObject({ symbol: "AAPLL", ib_code: 200 })
        expect(unknown.json.data.not_found.details.suggestions).toContain("AAPL")
        expect(unknown.json.data.not_found.details.req_id).toBeGreaterThan(0)
        const typed = yield* (yield* apiClient(s.baseUrl)).ib.discover({ payload: { symbol: "AAPLL" } })
        expect(typed.data).toMatchObject({ symbol_info: null, not_found: { code: "IB-200" } })

        const lookups = s.sim.stats().requests.contractDetails
        for (const bad of ["../etc/passwd", "AA/PL/X", "", "A".repeat(40)]) {
          const r = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: bad }))
          expect(r.status, bad).toBe(400)
          expect(r.json.success).toBe(false)
        }
        const pathLike = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ symbol: "../etc/passwd" }))
        expect(pathLike.json.error).toMatchObject({ code: "DATA-InvalidSymbol", details: { field: "symbol" } })
        const missing = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json({ force_refresh: true }))
        expect(missing.status).toBe(400)
        expect(missing.json.error.code).toBe("VALIDATION_ERROR")
        expect(s.sim.stats().requests.contractDetails).toBe(lookups)
        // Only the failed lookups happened: no cache file, no series file.
        expect(yield* Effect.promise(() => readdir(s.dataDir))).toEqual([])
      }).pipe(Effect.scoped)
  )
})

describe("/api/v1/ib host endpoints", () => {
  it.live("historical, contract, head timestamp, current time through this server's IbClient", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const bars = yield* raw(s.baseUrl, "/api/v1/ib/historical", json(aaplDay))
      expect(bars.status).toBe(200)
      expect(bars.json.data.bars).toHaveLength(7)
      expect(new Date(bars.json.data.bars[0].time).toISOString()).toBe("2025-01-02T14:30:00.000Z")
      expect(Object.keys(bars.json.data.bars[0]).sort()).toEqual([
        "close",
        "count",
        "high",
        "low",
        "open",
        "time",
        "volume",
        "wap"
      ])

      const client = yield* apiClient(s.baseUrl)
      const typed = yield* client.ibHost.historical({
        payload: { ...aaplDay, end: "now", duration: "2 D", barSize: "1 day" }
      })
      expect(typed.data.bars.length).toBeGreaterThan(0)

      const contracts = yield* raw(
        s.baseUrl,
        "/api/v1/ib/contract",
        json({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" })
      )
      expect(contracts.status).toBe(200)
      expect(contracts.json.data.contracts[0]).toMatchObject({
        conId: 265598,
        primaryExch: "NASDAQ",
        timeZoneId: "US/Eastern"
      })

      const head = yield* raw(
        s.baseUrl,
        "/api/v1/ib/head-timestamp?conId=265598&exchange=SMART&whatToShow=TRADES&useRTH=true"
      )
      expect(head.status).toBe(200)
      expect(new Date(head.json.data.timestamp).toISOString()).toBe("1980-12-12T14:30:00.000Z")
      const typedHead = yield* client.ibHost.headTimestamp({
        urlParams: { conId: 265598, exchange: "SMART", whatToShow: "TRADES", useRTH: true }
      })
      expect(typedHead.data.timestamp).toBe(head.json.data.timestamp)

      const time = yield* client.ibHost.currentTime()
      expect(Math.abs(time.data.time - Date.now() / 1000)).toBeLessThan(60)
      expect(s.sim.stats().requests.historical).toBe(2)
    }).pipe(Effect.scoped))

  it.live("IB errors keep code, request id, category and retryability", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const unknown = yield* raw(
        s.baseUrl,
        "/api/v1/ib/contract",
        json({ symbol: "NOPE", secType: "STK", exchange: "SMART", currency: "USD" })
      )
      expect(unknown.status).toBe(404)
      expect(unknown.json.error.code).toBe("IB-200")
      expect(unknown.json.error.details).toMatchObject({
        ib_code: 200,
        category: "no-security-definition",
        retryable: false
      })
      expect(unknown.json.error.details.req_id).toBeGreaterThan(0)

      // Forex has no TRADES: IB 162, a permission failure, not retryable → 502.
      const denied = yield* raw(
        s.baseUrl,
        "/api/v1/ib/historical",
        json({ ...aaplDay, contract: { conId: 12087792, exchange: "IDEALPRO" } })
      )
      expect(denied.status).toBe(502)
      expect(denied.json.error).toMatchObject({
        code: "IB-162",
        details: { ib_code: 162, category: "permission", retryable: false }
      })
      // An invalid step (1 secs over a day) is IB's own validation (321), not ours.
      const step = yield* (yield* apiClient(s.baseUrl)).ibHost.historical({
        payload: { ...aaplDay, barSize: "1 secs" }
      }).pipe(Effect.flip)
      expect(step).toMatchObject({
        _tag: "GatewayError",
        code: "IB-321",
        details: { ib_code: 321, category: "validation", retryable: false }
      })
    }).pipe(Effect.scoped))

  it.live("every field is validated: 400 naming it, nothing sent to the gateway", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const post = (path: string, body: unknown) => raw(s.baseUrl, `/api/v1/ib/${path}`, json(body))
      const cases: ReadonlyArray<readonly [string, unknown, string]> = [
        ["historical", { ...aaplDay, barSize: "7 minutes" }, "barSize"],
        ["historical", { ...aaplDay, duration: "forever" }, "duration"],
        ["historical", { ...aaplDay, whatToShow: "VOLUME" }, "whatToShow"],
        ["historical", { ...aaplDay, useRTH: "yes" }, "useRTH"],
        ["historical", { ...aaplDay, end: "yesterday" }, "end"],
        ["historical", { ...aaplDay, end: 1.5 }, "end"],
        ["historical", { ...aaplDay, timeZone: "../../etc" }, "timeZone"],
        ["historical", { ...aaplDay, contract: { exchange: "SMART" } }, "contract"],
        ["historical", { ...aaplDay, contract: { conId: -4 } }, "contract"],
        ["historical", { ...aaplDay, contract: { symbol: "AAPL\u0000" } }, "contract"],
        ["contract", { symbol: "AAPL", secType: "OPT" }, "secType"],
        ["contract", { symbol: "A".repeat(33) }, "symbol"],
        ["contract", { symbol: "AAPL", currency: "usd" }, "currency"],
        ["contract", {}, ""]
      ]
      for (const [path, body, field] of cases) {
        const r = yield* post(path, body)
        expect(r.status, JSON.stringify(body)).toBe(400)
        expect(r.json.error.code).toBe("VALIDATION_ERROR")
        expect(JSON.stringify(r.json.error.details), JSON.stringify(body)).toContain(field)
      }
      for (
        const q of [
          "conId=265598&whatToShow=TRADES",
          "conId=265598&whatToShow=TRADES&useRTH=maybe",
          "conId=x&whatToShow=TRADES&useRTH=1",
          "exchange=SMART&whatToShow=TRADES&useRTH=1"
        ]
      ) {
        const r = yield* raw(s.baseUrl, `/api/v1/ib/head-timestamp?${q}`)
        expect(r.status, q).toBe(400)
      }
      expect(s.sim.stats().requests).toMatchObject({ historical: 0, contractDetails: 0, headTimestamp: 0 })
    }).pipe(Effect.scoped))

  it.live("a token-protected server needs the bearer token on /ib too", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { token: Option.some(Redacted.make("tok")) } })
      expect((yield* raw(s.baseUrl, "/api/v1/ib/status")).status).toBe(401)
      expect((yield* raw(s.baseUrl, "/api/v1/ib/historical", json(aaplDay))).status).toBe(401)
      expect(s.sim.stats().requests.historical).toBe(0)
      const ok = yield* (yield* apiClient(s.baseUrl, "tok")).ibHost.historical({ payload: aaplDay })
      expect(ok.data.bars).toHaveLength(7)
    }).pipe(Effect.scoped))
})
