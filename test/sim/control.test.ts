/** The JSON control API over real HTTP: stats, faults (validated), config and reset. */
import { Effect, Exit, Scope } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startControlApi } from "../../src/sim/controlApi.ts"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  AAPL,
  bar,
  codes,
  connectNext,
  ConnectionState,
  Resources,
  waitFor,
  what,
  within,
  type NextClient
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let base: string
let next: NextClient

beforeAll(async () => {
  sim = await res.sim({ pacing: "strict" })
  const scope = await Effect.runPromise(Scope.make())
  res.add(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const port = await Effect.runPromise(startControlApi(sim, 0).pipe(Scope.extend(scope)))
  expect(port).toBeGreaterThan(0)
  base = `http://127.0.0.1:${port}`
  next = await connectNext(res, sim.port, 4)
})
afterAll(() => res.closeAll())

const get = async (path: string) => {
  const r = await fetch(`${base}${path}`)
  return { status: r.status, body: (await r.json()) as unknown }
}
const post = async (path: string, body: string) => {
  const r = await fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } })
  return { status: r.status, body: (await r.json()) as unknown }
}

describe("control API", () => {
  it("GET /stats reports connections, client ids and request counters", async () => {
    await within(next.ib.getContractDetails(AAPL), 5000, "details")
    await within(next.ib.getHeadTimestamp(AAPL, what("TRADES"), true, 2), 5000, "head")
    const { status, body } = await get("/stats")
    expect(status).toBe(200)
    expect(body).toEqual({
      serverVersion: 193,
      openConnections: 1,
      totalConnections: 1,
      clientIds: [4],
      requests: {
        historical: 0,
        contractDetails: 1,
        headTimestamp: 1,
        currentTime: 1,
        // IBApiNext cancels every head-timestamp request it got an answer for.
        total: 4,
        byType: { CurrentTime: 1, ContractData: 1, HeadTimestamp: 1, CancelHeadTimestamp: 1 }
      },
      unsupported: {},
      unsupportedTotal: 0,
      unanswered: 0,
      stalled: 0,
      unreadable: 0,
      historicalCancels: 0,
      openHistorical: 0,
      pacingViolations: 0,
      errorsSent: 0,
      barsSent: 0,
      clientIdRefusals: 0,
      maxSessionsPerClientId: 1
    })
    expect(body).toEqual(sim.stats())
  })

  it("POST /faults with a bad body is 400 and changes nothing", async () => {
    const before = structuredClone(sim.faults)
    for (
      const bad of [
        "{\"stall\":\"yes\"}",
        "{\"stal\":true}",
        "{\"pacingViolationNext\":-1}",
        "{\"closeAfterMessages\":1.5}",
        "{\"hmdsBroken\":{}}",
        "not json",
        "[]"
      ]
    ) {
      const { status, body } = await post("/faults", bad)
      expect(status, bad).toBe(400)
      expect((body as { error: Array<string> }).error.length, bad).toBeGreaterThan(0)
      expect(sim.faults, bad).toEqual(before)
    }
    expect(next.state()).toBe(ConnectionState.Connected)
  })

  it("POST /faults applies switches and answers the resulting state; GET /faults reads it", async () => {
    const { status, body } = await post(
      "/faults",
      JSON.stringify({ notice165: true, pacingViolationNext: 2, closeAfterMessages: null })
    )
    expect(status).toBe(200)
    expect(body).toMatchObject({ notice165: true, pacingViolationNext: 2, closeAfterMessages: null, stall: false })
    expect(sim.faults.notice165).toBe(true)
    expect(sim.faults.pacingViolationNext).toBe(2)
    expect((await get("/faults")).body).toEqual(sim.faults)
    // The switch is live: the next historical request is paced by the fault.
    const err = await within(
      next.ib.getHistoricalData(AAPL, "20240305 16:00:00 US/Eastern", "1 D", bar("1 hour"), what("TRADES"), 1, 1).then(
        () => undefined,
        (e: unknown) => e
      ),
      5000,
      "paced by fault"
    )
    expect((err as { code: number }).code).toBe(162)
    expect(sim.stats().pacingViolations).toBe(1)
  })

  it("POST /config validates and applies pacing and latency", async () => {
    expect((await post("/config", "{\"pacing\":\"sometimes\"}")).status).toBe(400)
    expect((await post("/config", "{\"timeScale\":0}")).status).toBe(400)
    const ok = await post("/config", "{\"pacing\":\"off\",\"timeScale\":10,\"latencyMs\":0}")
    expect(ok).toEqual({ status: 200, body: { ok: true } })
  })

  it("POST /reset clears faults and counters but keeps the session", async () => {
    const { status, body } = await post("/reset", "")
    expect(status).toBe(200)
    expect(body).toEqual({ ok: true })
    expect(sim.faults.notice165).toBe(false)
    expect(sim.faults.pacingViolationNext).toBe(0)
    const stats = (await get("/stats")).body
    expect(stats).toMatchObject({
      openConnections: 1,
      totalConnections: 1,
      clientIds: [4],
      pacingViolations: 0,
      errorsSent: 0,
      requests: { historical: 0, contractDetails: 0, headTimestamp: 0, currentTime: 0 }
    })
    const bars = await within(
      next.ib.getHistoricalData(AAPL, "20240305 16:00:00 US/Eastern", "1 D", bar("1 hour"), what("TRADES"), 1, 1),
      5000,
      "bars"
    )
    expect(bars).toHaveLength(7)
    expect((await get("/stats")).body).toMatchObject({ requests: { historical: 1 }, barsSent: 7 })
  })

  it("one-shot faults over HTTP: dropConnections disconnects the client", async () => {
    const { status } = await post("/faults", "{\"dropConnections\":true}")
    expect(status).toBe(200)
    await waitFor("Disconnected", next.state, (s) => s === ConnectionState.Disconnected)
    await waitFor("gateway side closed", () => sim.stats().openConnections, (n) => n === 0, 1000)
    expect((await get("/stats")).body).toMatchObject({ openConnections: 0, clientIds: [] })
    expect(codes(next.errors)).not.toContain(505)
  })

  it("unknown paths are 404", async () => {
    const r = await fetch(`${base}/nope`)
    expect(r.status).toBe(404)
    await r.arrayBuffer()
  })
})
