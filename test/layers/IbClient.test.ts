import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Stream } from "effect"
import { IbClient, type HistoricalRequest } from "../../src/layers/IbClient.ts"
import { IbConnection, type ConnectionState } from "../../src/layers/IbConnection.ts"
import { PaceGate } from "../../src/layers/PaceGate.ts"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import type { IbSettings } from "../../src/layers/Config.ts"
import { eventually, ibLayer, startSim, testSettings } from "./support.ts"

const AAPL = { conId: 265598, exchange: "SMART" } as const
const aaplDay = (overrides: Partial<HistoricalRequest> = {}): HistoricalRequest => ({
  contract: AAPL,
  end: Date.UTC(2025, 0, 2, 21, 0),
  duration: "1 D",
  barSize: "1 hour",
  whatToShow: "TRADES",
  useRTH: true,
  timeZone: "US/Eastern",
  ...overrides
})

/** A simulator and the IB layers on it; returns the simulator and the built context. */
const setup = (simOptions: SimulatorOptions = {}, settings: Partial<IbSettings> = {}) =>
  Effect.gen(function*() {
    const sim = yield* startSim(simOptions)
    const ctx = yield* Layer.build(ibLayer(testSettings(sim, settings)))
    const ib = yield* Effect.provide(IbClient, ctx)
    const conn = yield* Effect.provide(IbConnection, ctx)
    const gate = yield* Effect.provide(PaceGate, ctx)
    yield* conn.session({ historical: false })
    return { sim, ib, conn, gate }
  })

const fault = (sim: GatewaySimulator, f: Parameters<GatewaySimulator["setFaults"]>[0]) =>
  Effect.promise(() => sim.setFaults(f))

const recordTags = (conn: IbConnection["Type"]) =>
  Effect.gen(function*() {
    const seen: Array<ConnectionState["_tag"]> = []
    yield* conn.state.changes.pipe(Stream.runForEach((s) => Effect.sync(() => seen.push(s._tag))), Effect.forkScoped)
    return seen
  })

describe("IbClient requests", () => {
  it.live("historical bars are typed values with UTC instants", () =>
    Effect.gen(function*() {
      const { ib } = yield* setup()
      const hourly = yield* ib.historicalBars(aaplDay())
      expect(hourly).toHaveLength(7)
      expect(new Date(hourly[0]!.time).toISOString()).toBe("2025-01-02T14:30:00.000Z")
      expect(new Date(hourly[6]!.time).toISOString()).toBe("2025-01-02T20:00:00.000Z")
      for (const b of hourly) {
        expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close))
        expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close))
        expect(b.volume).toBeGreaterThan(0)
      }
      const daily = yield* ib.historicalBars(aaplDay({ duration: "5 D", barSize: "1 day" }))
      expect(daily.map((b) => new Date(b.time).toISOString().slice(0, 10))).toEqual([
        "2024-12-26",
        "2024-12-27",
        "2024-12-30",
        "2024-12-31",
        "2025-01-02"
      ])
      expect(daily.every((b) => b.time % 86_400_000 === 0)).toBe(true)
      const fx = yield* ib.historicalBars({
        contract: { conId: 12087792, exchange: "IDEALPRO" },
        end: Date.UTC(2025, 0, 3),
        duration: "3600 S",
        barSize: "5 mins",
        whatToShow: "MIDPOINT",
        useRTH: false
      })
      expect(fx).toHaveLength(12)
      expect(fx.every((b) => b.volume === null && b.wap === null && b.count === null)).toBe(true)
    }).pipe(Effect.scoped))

  it.live("contract details, head timestamp and typed IB errors", () =>
    Effect.gen(function*() {
      const { ib } = yield* setup()
      const [aapl] = yield* ib.contractDetails({ symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" })
      expect(aapl).toMatchObject({ conId: 265598, primaryExch: "NASDAQ", timeZoneId: "US/Eastern" })
      expect(new Date(yield* ib.headTimestamp(AAPL, { whatToShow: "TRADES", useRTH: true })).toISOString()).toBe(
        "1980-12-12T14:30:00.000Z"
      )
      const unknown = yield* ib.contractDetails({ symbol: "NOPE", secType: "STK", exchange: "SMART", currency: "USD" })
        .pipe(Effect.flip)
      expect(unknown).toMatchObject({
        _tag: "IbError",
        code: 200,
        category: "no-security-definition",
        retryable: false
      })
      expect(unknown.reqId).toBeGreaterThan(0)
      const bad = yield* ib.historicalBars(
        aaplDay({
          duration: "1 D",
          barSize: "1 hour",
          end: Date.UTC(2025, 0, 2),
          whatToShow: "TRADES",
          contract: { conId: 12087792, exchange: "IDEALPRO" }
        })
      ).pipe(Effect.flip)
      expect(bad).toMatchObject({ code: 162, category: "permission" })
      const step = yield* ib.historicalBars(aaplDay({ duration: "1 D", barSize: "1 secs" })).pipe(Effect.flip)
      expect(step).toMatchObject({ code: 321, category: "validation", retryable: false })
      const none = yield* ib.historicalBars({
        contract: { conId: 76792991, exchange: "SMART" },
        end: Date.UTC(2009, 0, 5),
        duration: "1 D",
        barSize: "1 hour",
        whatToShow: "TRADES",
        useRTH: true
      }).pipe(Effect.flip)
      expect(none).toMatchObject({ code: 162, category: "no-data" })
      const stats = yield* ib.stats
      expect(stats.requestsFailed).toMatchObject({
        "no-security-definition": 1,
        permission: 1,
        validation: 1,
        "no-data": 1
      })
    }).pipe(Effect.scoped))

  it.live("interrupting historicalBars sends CANCEL_HISTORICAL_DATA", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup({ latencyMs: 2000 })
      const fiber = yield* ib.historicalBars(aaplDay()).pipe(Effect.fork)
      yield* eventually("request at the gateway", () => sim.stats().requests.historical, (n) => n === 1)
      yield* Fiber.interrupt(fiber)
      yield* eventually("cancel at the gateway", () => sim.stats().historicalCancels, (n) => n === 1)
      expect((yield* ib.stats).cancelsSent).toBe(1)
      expect(sim.stats().openHistorical).toBe(0)
    }).pipe(Effect.scoped))

  it.live("a request that gets no answer times out with a typed error", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup({}, { requestTimeout: Duration.millis(300) })
      yield* fault(sim, { stall: true })
      const e = yield* ib.historicalBars(aaplDay()).pipe(Effect.flip)
      expect(e).toMatchObject({ category: "timeout", retryable: true })
      // The cancel goes through the library's rate limiter, so it reaches the gateway a moment later.
      yield* eventually("cancel at the gateway", () => sim.stats().historicalCancels, (n) => n === 1)
    }).pipe(Effect.scoped))
})

describe("IbClient under gateway faults", () => {
  it.live("165 before the bars does not fail the request (the IBApiNext pitfall)", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup()
      yield* fault(sim, { notice165: true })
      expect(yield* ib.historicalBars(aaplDay())).toHaveLength(7)
    }).pipe(Effect.scoped))

  it.live("a pacing violation from the gateway anyway is retried after the backoff", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup({}, { pacingBackoff: Duration.millis(200) })
      yield* fault(sim, { pacingViolationNext: 1 })
      expect(yield* ib.historicalBars(aaplDay())).toHaveLength(7)
      expect((yield* ib.stats).pacingRetries).toBe(1)
      expect(sim.stats().requests.historical).toBe(2)
    }).pipe(Effect.scoped))

  it.live("gateway killed mid-request: typed connectivity error, reconnect, next request succeeds", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup({ latencyMs: 500 })
      const fiber = yield* ib.historicalBars(aaplDay()).pipe(Effect.flip, Effect.fork)
      yield* eventually("request at the gateway", () => sim.stats().requests.historical, (n) => n === 1)
      yield* fault(sim, { dropConnections: true })
      const e = yield* Fiber.join(fiber)
      expect(e).toMatchObject({ category: "connectivity", retryable: true })
      expect(yield* ib.historicalBars(aaplDay())).toHaveLength(7)
      expect(sim.stats().totalConnections).toBe(2)
    }).pipe(Effect.scoped))

  it.live("socket closed mid-response fails the request and the session recovers", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup()
      yield* fault(sim, { closeMidResponse: true })
      const e = yield* ib.historicalBars(aaplDay()).pipe(Effect.flip)
      expect(e.category).toBe("connectivity")
      expect(yield* ib.historicalBars(aaplDay())).toHaveLength(7)
    }).pipe(Effect.scoped))

  it.live("socket closed after N messages: the layer reconnects", () =>
    Effect.gen(function*() {
      const { sim, ib, conn } = yield* setup()
      yield* fault(sim, { closeAfterMessages: 1 })
      yield* ib.currentTime.pipe(Effect.either)
      yield* eventually("reconnected", () => sim.stats().totalConnections, (n) => n === 2)
      expect(yield* ib.currentTime).toBeGreaterThan(0)
      expect((yield* conn.info).counters.reconnects).toBe(1)
    }).pipe(Effect.scoped))

  it.live("refused connections: typed connectivity error, then recovery on the same port", () =>
    Effect.gen(function*() {
      const { sim, ib, conn } = yield* setup()
      yield* fault(sim, { refuseConnections: true, dropConnections: true })
      // A request racing the drop sees the lost session; once reconnecting, the refusal itself (502).
      expect(yield* ib.currentTime.pipe(Effect.flip)).toMatchObject({ category: "connectivity" })
      yield* eventually("refused attempt", () => Effect.runSync(conn.info).lastError?.code, (c) => c === 502)
      expect(yield* ib.currentTime.pipe(Effect.flip)).toMatchObject({
        category: "connectivity",
        code: 502,
        retryable: true
      })
      yield* fault(sim, { refuseConnections: false })
      expect(yield* ib.currentTime).toBeGreaterThan(0)
    }).pipe(Effect.scoped))

  it.live("no NEXT_VALID_ID is a failed handshake, never 'ready'", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      yield* fault(sim, { withholdNextValidId: true })
      const ctx = yield* Layer.build(ibLayer(testSettings(sim, { connectTimeout: Duration.millis(300) })))
      const conn = yield* Effect.provide(IbConnection, ctx)
      const e = yield* conn.session({ historical: false }).pipe(Effect.flip)
      expect(e.category).toBe("timeout")
      yield* fault(sim, { withholdNextValidId: false })
      yield* conn.session({ historical: false })
    }).pipe(Effect.scoped))

  it.live("1100 degrades the session until 1102", () =>
    Effect.gen(function*() {
      const { sim, conn, ib } = yield* setup()
      const seen = yield* recordTags(conn)
      yield* fault(sim, { connectivityLost: { restoreAfterMs: 300 } })
      yield* eventually("degraded", () => seen, (s) => s.includes("Degraded"))
      yield* eventually("ready again", () => seen, (s) => s.at(-1) === "Ready")
      expect(yield* ib.historicalBars(aaplDay())).toHaveLength(7)
      expect(sim.stats().totalConnections).toBe(1)
    }).pipe(Effect.scoped))

  it.live("2110 drops the session and reconnects, as the library does", () =>
    Effect.gen(function*() {
      const { sim, ib, conn } = yield* setup()
      yield* fault(sim, { serverBroken: true })
      yield* eventually("reconnected", () => sim.stats().totalConnections, (n) => n === 2)
      expect(yield* ib.currentTime).toBeGreaterThan(0)
      expect((yield* conn.info).lastError?.code).toBe(2110)
    }).pipe(Effect.scoped))

  it.live("2105 makes historical requests wait for 2106", () =>
    Effect.gen(function*() {
      const { sim, ib, conn } = yield* setup()
      const seen = yield* recordTags(conn)
      yield* fault(sim, { hmdsBroken: { restoreAfterMs: 400 } })
      yield* eventually("degraded", () => seen, (s) => s.includes("Degraded"))
      // Non-historical requests still go through while the HMDS farm is down.
      expect(yield* ib.currentTime).toBeGreaterThan(0)
      const bars = yield* ib.historicalBars(aaplDay())
      expect(bars).toHaveLength(7)
      expect(seen.at(-1)).toBe("Ready")
    }).pipe(Effect.scoped))

  it.live("a frame the client cannot decode replaces the session", () =>
    Effect.gen(function*() {
      const { sim, ib } = yield* setup()
      yield* fault(sim, { garbageFrame: true })
      yield* eventually("a fresh session", () => sim.stats().totalConnections, (n) => n === 2)
      expect(yield* ib.currentTime).toBeGreaterThan(0)
    }).pipe(Effect.scoped))
})

describe("PaceGate against the gateway", () => {
  it.live("200 parallel 30-second-bar requests under strict pacing: 0 violations", () =>
    Effect.gen(function*() {
      const scale = 200
      const { sim, ib, gate } = yield* setup({ pacing: "strict", timeScale: scale }, {
        pacingTimeScale: scale,
        maxInFlight: 4
      })
      // 20 weekdays of May 2025 (Memorial Day skipped) × 10 hours inside extended trading hours.
      const days = [1, 2, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23, 27, 28, 29]
      const ends = Array.from({ length: 200 }, (_, i) => Date.UTC(2025, 4, days[i % 20]!, 14 + Math.floor(i / 20), 0))
      const contracts = [{ conId: 265598, exchange: "SMART" }, { conId: 272093, exchange: "SMART" }]
      const results = yield* Effect.forEach(ends, (end, i) =>
        ib.historicalBars({
          contract: contracts[i % 2]!,
          end,
          duration: "1800 S",
          barSize: "30 secs",
          whatToShow: "TRADES",
          useRTH: false
        }), { concurrency: "unbounded" })
      expect(results.every((r) => r.length === 60)).toBe(true)
      expect(sim.stats().pacingViolations).toBe(0)
      expect(sim.stats().requests.historical).toBe(200)
      expect((yield* gate.stats).waits).toBeGreaterThan(0)
    }).pipe(Effect.scoped), 60_000)
})
