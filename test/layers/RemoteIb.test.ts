/**
 * RemoteIb against a real test server (its own simulator, core graph and HTTP server): a second core
 * graph in this process uses the server's gateway session over HTTP and must open no IB socket itself.
 */
import { describe, expect, it } from "@effect/vitest"
import { HttpServer } from "@effect/platform"
import { Duration, Effect, Either, Fiber, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import { readdir } from "node:fs/promises"
import { createServer } from "node:net"
import { serverLayer } from "../../src/http/Server.ts"
import { ApiConfig } from "../../src/layers/ApiConfig.ts"
import { IbConfig } from "../../src/layers/Config.ts"
import { coreLayer } from "../../src/app/Core.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { GatewayInfo } from "../../src/layers/GatewayInfo.ts"
import { IbClient, type HistoricalRequest } from "../../src/layers/IbClient.ts"
import { IbConnection } from "../../src/layers/IbConnection.ts"
import { PaceGate } from "../../src/layers/PaceGate.ts"
import { parseHostUrl, type RemoteIbOptions } from "../../src/layers/RemoteIb.ts"
import { DataManager } from "../../src/services/DataManager.ts"
import { SymbolCatalog } from "../../src/services/SymbolCatalog.ts"
import { raw, startServer, tempDir } from "../http/support.ts"
import { eventually } from "./support.ts"

const ET = (iso: string) => Date.parse(`${iso}-05:00`)
const aaplDay: HistoricalRequest = {
  contract: { conId: 265598, exchange: "SMART" },
  end: Date.UTC(2025, 0, 2, 21, 0),
  duration: "1 D",
  barSize: "1 hour",
  whatToShow: "TRADES",
  useRTH: true,
  timeZone: "US/Eastern"
}

/** The core graph of a process that does not own the gateway: RemoteIb towards `url`, its own data dir. */
const remoteCore = (ibHost: RemoteIbOptions) =>
  Effect.gen(function*() {
    const dataDir = yield* tempDir("ktrdr-remote-")
    const layer = coreLayer({
      ibHost,
      ibConfig: IbConfig.make({ largeBarSpacing: Duration.millis(0) }),
      dataConfig: DataConfig.make({ dataDir })
    }).pipe(
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
    const ctx = yield* Layer.build(layer)
    return {
      dataDir,
      ib: yield* Effect.provide(IbClient, ctx),
      dm: yield* Effect.provide(DataManager, ctx),
      catalog: yield* Effect.provide(SymbolCatalog, ctx),
      gw: yield* Effect.provide(GatewayInfo, ctx),
      gate: yield* Effect.provide(PaceGate, ctx),
      connection: yield* Effect.provide(Effect.serviceOption(IbConnection), ctx)
    }
  })

/** A local port nobody listens on. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const srv = createServer()
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address()
      const port = typeof addr === "object" && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
)

describe("RemoteIb", () => {
  it.live(
    "a DataManager load through the host writes this process's data dir; " +
      "the gateway sees only the server's session",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer()
        const remote = yield* remoteCore({ url: s.baseUrl })
        expect(Option.isNone(remote.connection)).toBe(true)
        expect(remote.gw.mode).toBe("remote")
        expect(remote.gw.simulated).toBe(true)
        expect(yield* remote.gw.readiness).toMatchObject({
          ready: true,
          state: "Ready",
          farms: { hmds: "ok", connectivity: "ok" }
        })

        // Sampled throughout the load: the gateway never sees a second session.
        let maxOpen = 0
        const watching = yield* Effect.fork(Effect.forever(Effect.zipRight(
          Effect.sync(() => {
            maxOpen = Math.max(maxOpen, s.sim.stats().openConnections)
          }),
          Effect.sleep("10 millis")
        )))
        const r = yield* remote.dm.load({
          symbol: "AAPL",
          timeframe: "1h",
          mode: "full",
          start: ET("2025-01-02T00:00:00"),
          end: ET("2025-01-11T00:00:00")
        })
        // 2025-01-09 was the national day of mourning: six sessions of 7 RTH hour bars.
        expect(r.totalBars).toBe(42)
        expect(r.gapsLeft).toBe(0)
        expect(r.segmentsFailed).toBe(0)
        expect(r.ibRequests).toBeGreaterThan(0)
        yield* Fiber.interrupt(watching)
        expect(maxOpen).toBe(1)

        expect(s.sim.stats()).toMatchObject({ totalConnections: 1, openConnections: 1, clientIds: [1] })
        expect(s.sim.stats().requests.historical).toBe(r.ibRequests)
        expect(yield* Effect.promise(() => readdir(remote.dataDir))).toEqual(
          expect.arrayContaining(["AAPL_1h.csv", "symbol_discovery_cache.json"])
        )
        expect(yield* Effect.promise(() => readdir(s.dataDir))).not.toContain("AAPL_1h.csv")
        // The requests went through the local gate, and the counters say what this process did.
        const stats = yield* remote.ib.stats
        expect(stats.barsReceived).toBeGreaterThanOrEqual(42)
        expect(stats.requestsFailed).toEqual({})
      }).pipe(Effect.scoped)
  )

  it.live("IB errors arrive as the host's IbError: unknown symbol (200), permission (162), IB validation (321)", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const remote = yield* remoteCore({ url: s.baseUrl })
      const unknown = yield* remote.ib.contractDetails({
        symbol: "NOPE",
        secType: "STK",
        exchange: "SMART",
        currency: "USD"
      }).pipe(Effect.flip)
      expect(unknown).toMatchObject({
        _tag: "IbError",
        code: 200,
        category: "no-security-definition",
        retryable: false
      })
      // Request ids are the host's (its session numbers them from 1000).
      expect(unknown.reqId).toBeGreaterThanOrEqual(1000)
      expect(unknown.label).toBe("IB-200")

      const symbol = yield* remote.catalog.resolve("AAPLL").pipe(Effect.flip)
      expect(symbol).toMatchObject({ _tag: "UnknownSymbol", symbol: "AAPLL", code: 200 })
      expect(symbol._tag === "UnknownSymbol" && symbol.suggestions).toContain("AAPL")

      const denied = yield* remote.ib.historicalBars({
        ...aaplDay,
        contract: { conId: 12087792, exchange: "IDEALPRO" }
      }).pipe(Effect.flip)
      expect(denied).toMatchObject({ code: 162, category: "permission", retryable: false })
      const step = yield* remote.ib.historicalBars({ ...aaplDay, barSize: "1 secs" }).pipe(Effect.flip)
      expect(step).toMatchObject({ code: 321, category: "validation" })

      // Our own validation happens before anything is sent.
      const before = s.sim.stats().requests.historical
      const bad = yield* remote.ib.historicalBars({ ...aaplDay, barSize: "7 minutes" }).pipe(Effect.flip)
      expect(bad).toMatchObject({ code: 0, category: "validation" })
      expect(bad.message).toContain("barSize")
      expect(s.sim.stats().requests.historical).toBe(before)

      expect(
        new Date(
          yield* remote.ib.headTimestamp({ conId: 265598, exchange: "SMART" }, { whatToShow: "TRADES", useRTH: true })
        ).toISOString()
      ).toBe("1980-12-12T14:30:00.000Z")
      expect(Math.abs((yield* remote.ib.currentTime) - Date.now() / 1000)).toBeLessThan(60)
    }).pipe(Effect.scoped))

  it.live("interrupting a remote request aborts it over HTTP and cancels it at the gateway", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ sim: { latencyMs: 3000 } })
      const remote = yield* remoteCore({ url: s.baseUrl })
      const fiber = yield* Effect.fork(remote.ib.historicalBars(aaplDay))
      yield* eventually("request at the gateway", () => s.sim.stats().openHistorical, (n) => n === 1)
      yield* Fiber.interrupt(fiber)
      yield* eventually(
        "cancel at the gateway",
        () => s.sim.stats(),
        (st) => st.historicalCancels === 1 && st.openHistorical === 0
      )
      expect((yield* remote.ib.stats).cancelsSent).toBe(1)
      // The host's session is unharmed: the next request is served.
      const bars = yield* remote.ib.historicalBars({ ...aaplDay, end: Date.UTC(2025, 0, 3, 21, 0) })
      expect(bars).toHaveLength(7)
      expect(s.sim.stats().totalConnections).toBe(1)
    }).pipe(Effect.scoped))

  it.live("a host that is down is a retryable connectivity error; readiness says Unreachable", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const remote = yield* remoteCore({ url: `http://127.0.0.1:${port}` })
      expect(remote.gw.simulated).toBe(false)
      expect(yield* remote.gw.readiness).toEqual({ ready: false, state: "Unreachable" })
      const e = yield* remote.ib.contractDetails({ symbol: "AAPL", secType: "STK" }).pipe(Effect.flip)
      expect(e).toMatchObject({ _tag: "IbError", category: "connectivity", retryable: true })
      expect(e.message).toContain(`127.0.0.1:${port}`)
      expect(e.message).toContain("ECONNREFUSED")
      const load = yield* remote.dm.load({ symbol: "AAPL", timeframe: "1d", mode: "tail" }).pipe(Effect.flip)
      expect(load).toMatchObject({ _tag: "IbError", category: "connectivity" })
      expect(yield* Effect.promise(() => readdir(remote.dataDir))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("the host's bearer token: sent when configured; a wrong one is a permission error", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ api: { token: Option.some(Redacted.make("host-token")) } })
      const wrong = yield* remoteCore({ url: s.baseUrl, token: Redacted.make("nope") })
      const denied = yield* wrong.ib.currentTime.pipe(Effect.flip)
      expect(denied).toMatchObject({ category: "permission", retryable: false })
      expect(denied.message).toContain("KTRDR_API_TOKEN")
      const right = yield* remoteCore({ url: s.baseUrl, token: Redacted.make("host-token") })
      expect(yield* right.ib.historicalBars(aaplDay)).toHaveLength(7)
    }).pipe(Effect.scoped))

  it.live("a remote-mode server's /ib endpoints describe the host's session honestly", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const dataDir = yield* tempDir("ktrdr-remote-srv-")
      const layer = serverLayer().pipe(
        Layer.provideMerge(
          coreLayer({
            ibHost: { url: s.baseUrl },
            ibConfig: IbConfig.make({}),
            dataConfig: DataConfig.make({ dataDir })
          })
        ),
        Layer.provide(ApiConfig.make({ port: 0 })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
      const server = yield* Effect.provide(HttpServer.HttpServer, yield* Layer.build(layer))
      const base = `http://127.0.0.1:${server.address._tag === "TcpAddress" ? server.address.port : 0}`

      const health0 = yield* raw(base, "/api/v1/health")
      expect(health0.json.gateway).toMatchObject({ ready: true, state: "Ready", mode: "remote", simulated: true })
      const discovered = yield* raw(base, "/api/v1/ib/symbols/discover", {
        method: "POST",
        body: JSON.stringify({ symbol: "MSFT" }),
        headers: { "content-type": "application/json" }
      })
      expect(discovered.status).toBe(200)
      expect(discovered.json.data.symbol_info).toMatchObject({ symbol: "MSFT", instrument_type: "stock" })

      const status = (yield* raw(base, "/api/v1/ib/status")).json.data
      expect(status.connection).toMatchObject({ connected: true, host: s.baseUrl, port: s.port, client_id: 1 })
      expect(status).toMatchObject({ mode: "remote", ib_available: true, state: "Ready", simulated: true })
      expect(status.host_service).toEqual({
        url: s.baseUrl,
        reachable: true,
        error: null,
        gateway_host: "127.0.0.1",
        gateway_port: s.sim.port
      })
      expect(status.data_metrics).toMatchObject({ total_requests: 1, successful_requests: 1 })

      const health = (yield* raw(base, "/api/v1/ib/health")).json.data
      expect(health).toMatchObject({
        healthy: true,
        connection_ok: true,
        data_fetching_ok: true,
        mode: "remote",
        state: "Ready",
        error_message: null
      })
      expect(Date.parse(health.last_successful_request)).toBeLessThanOrEqual(Date.now())
      const config = (yield* raw(base, "/api/v1/ib/config")).json.data
      expect(config).toMatchObject({
        mode: "remote",
        host: s.baseUrl,
        port: s.port,
        client_id: null,
        client_id_range: null,
        host_service_url: s.baseUrl
      })
      expect(s.sim.stats().totalConnections).toBe(1)

      // The host's gateway goes away: the remote server's health turns 503 from the host's own /health.
      yield* Effect.promise(() => s.sim.setFaults({ refuseConnections: true, dropConnections: true }))
      const deadline = Date.now() + 10_000
      let down = yield* raw(base, "/api/v1/ib/health")
      while (down.status !== 503 && Date.now() < deadline) {
        yield* Effect.sleep("50 millis")
        down = yield* raw(base, "/api/v1/ib/health")
      }
      expect(down.status).toBe(503)
      expect(down.json.error).toMatchObject({ code: "IB-UNHEALTHY", details: { connection_ok: false, mode: "remote" } })
      expect(down.json.error.details.error_message).toContain(s.baseUrl)
    }).pipe(Effect.scoped))

  it("host URLs: http(s) only, trailing slashes dropped", () => {
    expect(Either.getOrUndefined(parseHostUrl("http://127.0.0.1:8000/"))).toBe("http://127.0.0.1:8000")
    expect(parseHostUrl("https://ib-host.internal")._tag).toBe("Right")
    expect(parseHostUrl("ftp://x")._tag).toBe("Left")
    expect(parseHostUrl("not a url")._tag).toBe("Left")
  })
})
