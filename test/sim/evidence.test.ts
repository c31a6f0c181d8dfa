/**
 * The simulator's evidence for multi-process tests: refused client ids (326), the most sessions ever open under
 * one client id (counted over the sessions, so it can show 2 when the rule is broken on purpose) and the log of
 * historical requests as received — in process and over the control API.
 */
import { Effect, Exit, Scope } from "effect"
import { afterEach, describe, expect, it } from "vitest"
import { startControlApi } from "../../src/sim/controlApi.ts"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { RequestLog, type HistoricalRequestEntry } from "../../src/sim/requestLog.ts"
import { AAPL, connectRaw, EURUSD, openRaw, outcome, reqHist, Resources, waitFor } from "./support.ts"

const res = new Resources()
afterEach(() => res.closeAll())

const controlOf = async (sim: GatewaySimulator): Promise<string> => {
  const scope = await Effect.runPromise(Scope.make())
  res.add(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  const port = await Effect.runPromise(startControlApi(sim, 0).pipe(Scope.extend(scope)))
  return `http://127.0.0.1:${port}`
}

describe("client-id evidence", () => {
  it("a refused duplicate counts once; the maximum stays 1, also across a reconnect under the id", async () => {
    const sim = await res.sim({ pacing: "off" })
    expect(sim.stats()).toMatchObject({ clientIdRefusals: 0, maxSessionsPerClientId: 0 })
    const first = await connectRaw(res, sim.port, 7)
    const dup = openRaw(res, sim.port, 7)
    await waitFor("326", () => dup.infos.map((i) => i.code), (cs) => cs.includes(326))
    await waitFor("one open connection", () => sim.stats().openConnections, (n) => n === 1)
    expect(sim.stats()).toMatchObject({ clientIdRefusals: 1, maxSessionsPerClientId: 1 })
    first.close()
    await waitFor("id 7 released", () => sim.stats().clientIds, (ids) => ids.length === 0)
    await connectRaw(res, sim.port, 7)
    await connectRaw(res, sim.port, 8)
    expect(sim.stats()).toMatchObject({ clientIdRefusals: 1, maxSessionsPerClientId: 1 })
  })

  it("counts real sessions: two logins under one id (fault) show 2; a reset keeps what is open", async () => {
    const sim = await res.sim({ pacing: "off" })
    await sim.setFaults({ acceptDuplicateClientIds: true })
    await connectRaw(res, sim.port, 3)
    await connectRaw(res, sim.port, 3)
    expect(sim.stats()).toMatchObject({ clientIdRefusals: 0, maxSessionsPerClientId: 2 })
    await sim.reset()
    expect(sim.faults.acceptDuplicateClientIds).toBe(false)
    expect(sim.stats()).toMatchObject({ clientIdRefusals: 0, maxSessionsPerClientId: 2 })
  })
})

describe("historical request log", () => {
  it("logs each request as sent, with client and session, over GET /requests; POST /reset clears it", async () => {
    const sim = await res.sim({ pacing: "off" })
    const base = await controlOf(sim)
    const a = await connectRaw(res, sim.port, 21)
    const b = await connectRaw(res, sim.port, 22)
    const before = Date.now()
    reqHist(a, 1, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "1 hour" })
    reqHist(b, 2, {
      contract: EURUSD,
      end: "20240305 16:00:00 US/Eastern",
      duration: "2 D",
      barSize: "1 min",
      whatToShow: "BID",
      useRTH: false
    })
    await outcome(a, 1)
    // By conId alone, as the server sends it once the contract is resolved.
    reqHist(a, 3, {
      contract: { conId: 265598, exchange: "SMART" },
      end: "20240305 16:00:00 US/Eastern",
      duration: "1 D",
      barSize: "1 hour"
    })
    await outcome(a, 3)
    await outcome(b, 2)
    const body = (await (await fetch(`${base}/requests`)).json()) as {
      total: number
      requests: Array<HistoricalRequestEntry>
    }
    expect(body).toEqual(sim.requests())
    expect(body.total).toBe(3)
    const byClient = [...body.requests].sort((x, y) => x.clientId - y.clientId)
    expect(byClient.map(({ receivedAtMs: _, sessionId: __, ...rest }) => rest)).toEqual([
      {
        clientId: 21,
        conId: 0,
        symbol: "AAPL",
        secType: "STK",
        exchange: "SMART",
        currency: "USD",
        localSymbol: "",
        resolved: "AAPL",
        endDateTime: "20240305 16:00:00 US/Eastern",
        duration: "1 D",
        barSize: "1 hour",
        whatToShow: "TRADES",
        useRTH: true
      },
      {
        clientId: 21,
        conId: 265598,
        symbol: "",
        secType: "",
        exchange: "SMART",
        currency: "",
        localSymbol: "",
        resolved: "AAPL",
        endDateTime: "20240305 16:00:00 US/Eastern",
        duration: "1 D",
        barSize: "1 hour",
        whatToShow: "TRADES",
        useRTH: true
      },
      {
        clientId: 22,
        conId: 0,
        symbol: "EUR",
        secType: "CASH",
        exchange: "IDEALPRO",
        currency: "USD",
        localSymbol: "",
        resolved: "EUR.USD",
        endDateTime: "20240305 16:00:00 US/Eastern",
        duration: "2 D",
        barSize: "1 min",
        whatToShow: "BID",
        useRTH: false
      }
    ])
    expect(new Set(byClient.map((r) => r.sessionId)).size).toBe(2)
    expect(byClient[0]!.sessionId).toBe(byClient[1]!.sessionId)
    for (const r of byClient) {
      expect(r.receivedAtMs).toBeGreaterThanOrEqual(before)
      expect(r.receivedAtMs).toBeLessThanOrEqual(Date.now())
    }
    const reset = await fetch(`${base}/reset`, { method: "POST" })
    expect(reset.status).toBe(200)
    await reset.arrayBuffer()
    expect(await (await fetch(`${base}/requests`)).json()).toEqual({ total: 0, requests: [] })
  })

  it("keeps the newest entries, oldest first, and counts every one", () => {
    const log = new RequestLog(3)
    const entry = (i: number): HistoricalRequestEntry => ({
      sessionId: 1,
      clientId: i,
      conId: 265598,
      symbol: "",
      secType: "",
      exchange: "SMART",
      currency: "",
      localSymbol: "",
      resolved: "AAPL",
      endDateTime: "",
      duration: "1 D",
      barSize: "1 min",
      whatToShow: "TRADES",
      useRTH: true,
      receivedAtMs: i
    })
    for (let i = 1; i <= 2; i++) log.add(entry(i))
    expect(log.snapshot().requests.map((r) => r.clientId)).toEqual([1, 2])
    for (let i = 3; i <= 7; i++) log.add(entry(i))
    expect(log.snapshot()).toMatchObject({ total: 7 })
    expect(log.snapshot().requests.map((r) => r.clientId)).toEqual([5, 6, 7])
    log.clear()
    expect(log.snapshot()).toEqual({ total: 0, requests: [] })
  })
})
