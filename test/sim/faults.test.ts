/** One test per fault switch: what the real client sees (tws-protocol.md §3.3–3.5, §5.2, §6). */
import { EventName } from "@stoqey/ib"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  AAPL,
  bar,
  codeOf,
  codes,
  connectNext,
  connectRaw,
  ConnectionState,
  ES,
  openNext,
  openRaw,
  outcome,
  reqHist,
  Resources,
  settledAfter,
  sleep,
  waitFor,
  what,
  within,
  type HistArgs
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator

beforeEach(async () => {
  sim = await res.sim({ pacing: "off" })
})
afterEach(() => res.closeAll())

const END = "20240305 16:00:00 US/Eastern"
const HOURLY: HistArgs = { contract: AAPL, end: END, duration: "1 D", barSize: "1 hour" }
const hourly = (ib: ReturnType<typeof openNext>["ib"]) =>
  ib.getHistoricalData(AAPL, END, "1 D", bar("1 hour"), what("TRADES"), 1, 1)

describe("fault switches", () => {
  it(
    "refuseConnections: connect fails with 502 ECONNREFUSED; " +
      "switching it off accepts again on the same port",
    async () => {
      const port = sim.port
      const existing = await connectNext(res, port, 9)
      await within(sim.setFaults({ refuseConnections: true }), 5000, "setFaults with a session open")
      expect(sim.faults.refuseConnections).toBe(true)
      const refused = openRaw(res, port, 1)
      await waitFor("502", () => refused.errors.map((e) => e.code), (cs) => cs.includes(502))
      expect(refused.errors.find((e) => e.code === 502)!.message).toContain("ECONNREFUSED")
      expect(refused.events.some((e) => e.kind === "nextValidId")).toBe(false)
      expect(sim.stats().totalConnections).toBe(1)
      // Sessions opened before keep working.
      expect(await within(hourly(existing.ib), 5000, "existing session while refusing")).toHaveLength(7)
      refused.close()
      await sim.setFaults({ refuseConnections: false })
      expect(sim.port).toBe(port)
      const ok = await connectNext(res, port, 2)
      expect(await within(ok.ib.getCurrentTime(), 5000, "after refusing")).toBeGreaterThan(0)
      expect(sim.stats().openConnections).toBe(2)
    }
  )

  it("silentHandshake: IBApiNext stays Connecting (state 1)", async () => {
    await sim.setFaults({ silentHandshake: true })
    const c = openNext(res, sim.port, 1)
    await waitFor("TCP accepted", () => sim.stats().totalConnections, (n) => n === 1)
    await sleep(500)
    expect(c.state()).toBe(ConnectionState.Connecting)
    expect(c.states).not.toContain(ConnectionState.Connected)
    expect(sim.stats().openConnections).toBe(1)
    expect(sim.stats().clientIds).toEqual([])
  })

  it("withholdNextValidId: Connected, but getCurrentTime never leaves the client", async () => {
    await sim.setFaults({ withholdNextValidId: true })
    const c = openNext(res, sim.port, 1)
    await waitFor("Connected", c.state, (s) => s === ConnectionState.Connected)
    const s = await settledAfter(c.ib.getCurrentTime(), 500)
    expect(s.state).toBe("pending")
    expect(sim.stats().requests.currentTime).toBe(0)
    expect(sim.stats().clientIds).toEqual([1])
  })

  it("stall: requests reach the gateway and are never answered", async () => {
    const c = await connectNext(res, sim.port, 1)
    const counted = sim.stats().requests.contractDetails
    await sim.setFaults({ stall: true })
    const s = await settledAfter(c.ib.getContractDetails(AAPL), 500)
    expect(s.state).toBe("pending")
    expect(sim.stats().requests.contractDetails).toBe(counted + 1)
    const h = await settledAfter(hourly(c.ib), 300)
    expect(h.state).toBe("pending")
    expect(sim.stats().barsSent).toBe(0)
    expect(sim.stats().stalled).toBe(2) // counted as swallowed on purpose, not as unanswered
    expect(sim.stats().unanswered).toBe(0)
    // Switching it off serves new requests (the stalled ones stay lost, as with a real half-open gateway).
    await sim.setFaults({ stall: false })
    expect(await within(c.ib.getHeadTimestamp(AAPL, what("TRADES"), true, 2), 5000, "after stall")).toBe("345479400")
    expect(c.state()).toBe(ConnectionState.Connected)
  })

  it("closeMidResponse: the historical request never completes and the client is disconnected", async () => {
    const c = await connectNext(res, sim.port, 1)
    await sim.setFaults({ closeMidResponse: true })
    const p = hourly(c.ib)
    await waitFor("Disconnected", c.state, (s) => s === ConnectionState.Disconnected)
    const s = await settledAfter(p, 300)
    expect(s.state).toBe("pending")
    expect(sim.faults.closeMidResponse).toBe(false) // one shot
    await waitFor("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
    expect(codes(c.errors)).not.toContain(505)
    // The next session is served normally.
    const again = await connectNext(res, sim.port, 2)
    expect(await within(hourly(again.ib), 5000, "bars after reconnect")).toHaveLength(7)
  })

  it("closeAfterMessages: the session closes after exactly N more messages", async () => {
    const raw = await connectRaw(res, sim.port, 1)
    await waitFor("farm notices", () => raw.infos.length, (n) => n === 3)
    await sim.setFaults({ closeAfterMessages: 2 })
    let details = 0
    let ended = false
    raw.api.on(EventName.contractDetails, () => void details++)
    raw.api.on(EventName.contractDetailsEnd, () => void (ended = true))
    raw.api.reqContractDetails(7, ES) // several expiries: more than two messages
    await waitFor("disconnected", () => raw.events.some((e) => e.kind === "disconnected"), (x) => x)
    expect(details).toBe(2)
    expect(ended).toBe(false)
    expect(sim.faults.closeAfterMessages).toBe(null)
    await waitFor("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
  })

  it(
    "notice165: IBApiNext rejects with 165 although bars follow; " +
      "the raw IBApi gets the notice and the bars",
    async () => {
      await sim.setFaults({ notice165: true })
      const c = await connectNext(res, sim.port, 1)
      const err = await within(hourly(c.ib).then(() => undefined, (e: unknown) => e), 5000, "165 rejection")
      expect(codeOf(err)).toBe(165)
      expect((err as Error).message).toBe(
        "Historical Market Data Service query message:HMDS server connection was successful."
      )
      const raw = await connectRaw(res, sim.port, 2)
      reqHist(raw, 9, HOURLY)
      const o = await outcome(raw, 9)
      expect(o._tag).toBe("bars")
      if (o._tag !== "bars") return
      expect(o.bars).toHaveLength(7)
      expect(o.notices.map((n) => n.code)).toEqual([165])
      // The notice arrives before the first bar.
      const i165 = raw.events.findIndex((e) => e.kind === "error" && e.code === 165)
      const iBar = raw.events.findIndex((e) => e.kind === "bar")
      expect(i165).toBeLessThan(iBar)
    }
  )

  it("pacingViolationNext: the next N historical requests get 162 pacing, then bars", async () => {
    const raw = await connectRaw(res, sim.port, 1)
    await sim.setFaults({ pacingViolationNext: 2 })
    for (const id of [1, 2, 3]) reqHist(raw, id, { ...HOURLY, end: `2024030${id + 4} 16:00:00 US/Eastern` })
    const os = await Promise.all([1, 2, 3].map((id) => outcome(raw, id)))
    expect(os.map((o) => (o._tag === "error" ? `${o.error.code} ${o.error.message}` : `bars ${o.bars.length}`)))
      .toEqual([
        "162 Historical Market Data Service error message:Historical data request pacing violation",
        "162 Historical Market Data Service error message:Historical data request pacing violation",
        "bars 7"
      ])
    expect(sim.stats().pacingViolations).toBe(2)
    expect(sim.faults.pacingViolationNext).toBe(0)
  })

  it("connectivityLost: info 1100, then 1102 (or 1101 when data was lost)", async () => {
    const raw = await connectRaw(res, sim.port, 1)
    await sim.setFaults({ connectivityLost: { restoreAfterMs: 150 } })
    await waitFor("1102", () => raw.infos.map((i) => i.code), (cs) => cs.includes(1102))
    const after = raw.infos.map((i) => i.code).filter((c) => c >= 1100 && c < 1300)
    expect(after).toEqual([1100, 1102])
    expect(raw.infos.find((i) => i.code === 1100)!.message).toBe(
      "Connectivity between IB and Trader Workstation has been lost."
    )
    await sim.setFaults({ connectivityLost: { restoreAfterMs: 50, dataLost: true } })
    await waitFor("1101", () => raw.infos.map((i) => i.code), (cs) => cs.includes(1101))
    expect(raw.infos.map((i) => i.code).filter((c) => c >= 1100 && c < 1300)).toEqual([1100, 1102, 1100, 1101])
    expect(raw.connected()).toBe(true)
    expect(raw.errors).toEqual([])
  })

  it("connectivityLost: IBApiNext drops its socket on 1100 (library behaviour since PR #234)", async () => {
    const c = await connectNext(res, sim.port, 1)
    await sim.setFaults({ connectivityLost: { restoreAfterMs: 100 } })
    await waitFor("Disconnected", c.state, (s) => s === ConnectionState.Disconnected)
    await waitFor("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
  })

  it("serverBroken: info 2110; the raw client stays connected, IBApiNext drops the socket", async () => {
    const raw = await connectRaw(res, sim.port, 1)
    const c = await connectNext(res, sim.port, 2)
    await sim.setFaults({ serverBroken: true })
    await waitFor("2110", () => raw.infos.map((i) => i.code), (cs) => cs.includes(2110))
    expect(raw.infos.find((i) => i.code === 2110)!.message).toBe(
      "Connectivity between Trader Workstation and server is broken. It will be restored automatically."
    )
    await waitFor("IBApiNext Disconnected", c.state, (s) => s === ConnectionState.Disconnected)
    await waitFor("one open connection", () => sim.stats().openConnections, (n) => n === 1, 1000)
    expect(raw.connected()).toBe(true)
    raw.api.reqCurrentTime()
    await waitFor("raw current time", () => sim.stats().requests.currentTime, (n) => n >= 2)
  })

  it("hmdsBroken: info 2105; the historical answer is held until 2106, then delivered", async () => {
    const raw = await connectRaw(res, sim.port, 1)
    await sim.setFaults({ hmdsBroken: { restoreAfterMs: 400 } })
    await waitFor("2105", () => raw.infos.map((i) => i.code), (cs) => cs.includes(2105))
    expect(raw.infos.find((i) => i.code === 2105)!.message).toBe("HMDS data farm connection is broken:ushmds")
    reqHist(raw, 3, HOURLY)
    await sleep(150)
    expect(raw.bars.get(3)).toBeUndefined()
    const o = await outcome(raw, 3)
    expect(o._tag === "bars" ? o.bars.length : -1).toBe(7)
    const i2106 = raw.events.findLastIndex((e) => e.kind === "info" && e.code === 2106)
    const iBar = raw.events.findIndex((e) => e.kind === "bar")
    expect(i2106).toBeGreaterThan(-1)
    expect(i2106).toBeLessThan(iBar)
    expect(sim.faults.hmdsBroken).toBe(false)
    // A client connecting while HMDS is down is told 2105 instead of 2106 at login.
    await sim.setFaults({ hmdsBroken: { restoreAfterMs: 10_000 } })
    const late = await connectRaw(res, sim.port, 2)
    await waitFor("login notices", () => late.infos.length, (n) => n >= 3)
    expect(late.infos.map((i) => i.code).slice(0, 3)).toEqual([2104, 2105, 2158])
    await sim.reset() // clears the pending restore timer and restores the farm
    await waitFor("2106 after reset", () => late.infos.map((i) => i.code), (cs) => cs.includes(2106))
  })

  it("garbageFrame: the client reports two 505s for the one undecodable frame; the session stays usable", async () => {
    const c = await connectNext(res, sim.port, 1)
    await sim.setFaults({ garbageFrame: true })
    await waitFor("505s", () => codes(c.errors).filter((x) => x === 505), (l) => l.length === 2)
    expect(c.errors.map((e) => [e.code, e.reqId, e.error.message])).toEqual([
      [505, -1, "No parser implementation found for token: undefined (999)."],
      [505, -1, expect.stringContaining("unprocessed data left on queue ([\"garbage\",null])")]
    ])
    expect(c.state()).toBe(ConnectionState.Connected)
    expect(await within(hourly(c.ib), 5000, "bars after garbage")).toHaveLength(7)
    expect(await within(c.ib.getHeadTimestamp(AAPL, what("TRADES"), true, 1), 5000, "head after garbage")).toBe(
      "19801212-14:30:00"
    )
    // Nothing else was corrupted: no further decoding errors.
    expect(codes(c.errors)).toEqual([505, 505])
    expect(sim.stats().openConnections).toBe(1)
  })

  it("dropConnections: every client is disconnected and nothing stays open", async () => {
    const a = await connectNext(res, sim.port, 1)
    const b = await connectRaw(res, sim.port, 2)
    await sim.setFaults({ dropConnections: true })
    await waitFor("IBApiNext Disconnected", a.state, (s) => s === ConnectionState.Disconnected)
    await waitFor("IBApi disconnected", () => b.events.some((e) => e.kind === "disconnected"), (x) => x)
    await waitFor("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
    expect(sim.stats().clientIds).toEqual([])
    // The listener is still up: the same ids connect again.
    await connectRaw(res, sim.port, 2)
    expect(sim.stats().clientIds).toEqual([2])
  })

  it("reset() clears every switch and counter but keeps open sessions", async () => {
    const c = await connectNext(res, sim.port, 1)
    await within(
      sim.setFaults({
        stall: true,
        notice165: true,
        pacingViolationNext: 3,
        closeAfterMessages: 50,
        refuseConnections: true,
        acceptDuplicateClientIds: true
      }),
      5000,
      "setFaults"
    )
    await within(sim.reset(), 5000, "reset")
    expect(sim.faults).toEqual({
      refuseConnections: false,
      silentHandshake: false,
      withholdNextValidId: false,
      stall: false,
      closeMidResponse: false,
      closeAfterMessages: null,
      notice165: false,
      pacingViolationNext: 0,
      hmdsBroken: false,
      acceptDuplicateClientIds: false
    })
    expect(sim.stats()).toMatchObject({
      openConnections: 1,
      totalConnections: 1,
      pacingViolations: 0,
      errorsSent: 0,
      requests: { historical: 0, currentTime: 0 }
    })
    expect(await within(hourly(c.ib), 5000, "bars after reset")).toHaveLength(7)
    await connectNext(res, sim.port, 2) // listening again
  })
})
