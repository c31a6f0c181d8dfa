/** Handshake and session rules (tws-protocol.md §1): version frame, START_API, client ids, version range. */
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { EventName } from "@stoqey/ib"
import {
  AAPL,
  codes,
  connectNext,
  connectRaw,
  ConnectionState,
  ES,
  helloBytes,
  openNext,
  openRaw,
  outcome,
  rawSocket,
  reqHist,
  Resources,
  waitFor,
  within
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator

beforeEach(async () => {
  sim = await res.sim()
})
afterEach(() => res.closeAll())

describe("handshake", () => {
  it("IBApiNext goes Connecting → Connected and answers requests", async () => {
    const c = openNext(res, sim.port, 11)
    await waitFor("Connected", c.state, (s) => s === ConnectionState.Connected)
    const t = await within(c.ib.getCurrentTime(), 5000, "getCurrentTime")
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60)
    expect(c.states).toContain(ConnectionState.Connecting)
    expect(c.states.indexOf(ConnectionState.Connecting)).toBeLessThan(c.states.indexOf(ConnectionState.Connected))
    expect(sim.stats().clientIds).toEqual([11])
    expect(sim.stats().openConnections).toBe(1)
    expect(codes(c.errors)).not.toContain(505)
  })

  it("IBApi sees server 193, managedAccounts, nextValidId, then 2104, 2106, 2158 in that order", async () => {
    const c = await connectRaw(res, sim.port, 12)
    await waitFor("farm notices", () => c.infos.map((i) => i.code), (cs) => cs.includes(2158))
    const kinds = c.events.map((e) => (e.kind === "info" ? `info ${e.code}` : e.kind))
    expect(kinds.slice(0, 7)).toEqual([
      "connected",
      "server",
      "managedAccounts",
      "nextValidId",
      "info 2104",
      "info 2106",
      "info 2158"
    ])
    const server = c.events.find((e) => e.kind === "server")
    expect(server).toEqual({ kind: "server", version: 193 })
    const accounts = c.events.find((e) => e.kind === "managedAccounts")
    expect(accounts).toEqual({ kind: "managedAccounts", accounts: "DU1234567" })
    expect(c.infos.map((i) => i.message)).toEqual([
      "Market data farm connection is OK:usfarm",
      "HMDS data farm connection is OK:ushmds",
      "Sec-def data farm connection is OK:secdefnj"
    ])
    expect(c.errors).toEqual([])
  })

  it("a second client with the same id gets info 326 and is dropped; the first keeps working", async () => {
    const first = await connectNext(res, sim.port, 5)
    const second = openRaw(res, sim.port, 5)
    await waitFor("326 on the second client", () => second.infos.map((i) => i.code), (cs) => cs.includes(326))
    await waitFor("second client disconnected", () => second.events.some((e) => e.kind === "disconnected"), (x) => x)
    expect(second.infos.find((i) => i.code === 326)?.message).toBe(
      "Unable to connect as the client id is already in use. Retry with a unique client id."
    )
    expect(second.events.some((e) => e.kind === "nextValidId")).toBe(false)
    // The first session is untouched: still registered and answering.
    const details = await within(
      first.ib.getContractDetails({ conId: 265598, exchange: "SMART" }),
      5000,
      "contract details"
    )
    expect(details[0]?.contract.symbol).toBe("AAPL")
    expect(sim.stats().clientIds).toEqual([5])
    await waitFor("one open connection", () => sim.stats().openConnections, (n) => n === 1)
    expect(sim.stats().totalConnections).toBe(2)
    expect(codes(first.errors)).not.toContain(505)
  })

  it("a client id becomes free again when its holder disconnects", async () => {
    const first = await connectRaw(res, sim.port, 9)
    first.close()
    await waitFor("id 9 released", () => sim.stats().clientIds, (ids) => ids.length === 0)
    const again = await connectRaw(res, sim.port, 9)
    expect(again.infos.map((i) => i.code)).not.toContain(326)
    expect(sim.stats().clientIds).toEqual([9])
  })

  it("a client offering v100..150 gets 150, the highest version both sides speak", async () => {
    const s = await rawSocket(res, sim.port)
    s.socket.write(helloBytes("v100..150"))
    const frame = await waitFor(
      "version frame",
      () => s.received(),
      (b) => b.length >= 4 && b.length >= 4 + b.readUInt32BE(0)
    )
    expect(frame.subarray(4, 4 + frame.readUInt32BE(0)).toString("utf8")).toMatch(/^150\0\d{8} /)
    expect(s.isClosed()).toBe(false)
  })

  it("ranges that do not overlap are closed without an answer", async () => {
    const old = await res.sim({ serverVersion: 150 })
    const s = await rawSocket(res, old.port)
    s.socket.write(helloBytes("v157..178"))
    await within(s.closed, 5000, "socket closed by the simulator")
    expect(s.received().length).toBe(0)
    await waitFor("no open connections", () => old.stats().openConnections, (n) => n === 0, 1000)
  })

  it("--server-version N stands in for an older gateway: @stoqey/ib sees N and decodes every frame", async () => {
    for (const v of [100, 123, 124, 157, 163, 164, 166, 176, 182, 186, 187]) {
      const old = await res.sim({ serverVersion: v })
      const c = await connectRaw(res, old.port, 1)
      expect(c.events.find((e) => e.kind === "server")).toEqual({ kind: "server", version: v })
      expect(old.stats().serverVersion).toBe(v)
      // The library's own decoder, at its negotiated version: futures details (the longest message), bars, errors.
      let details = 0
      let ended = false
      c.api.on(EventName.contractDetails, () => void details++)
      c.api.on(EventName.contractDetailsEnd, () => void (ended = true))
      c.api.reqContractDetails(5, ES)
      await waitFor(`v${v} contract details end`, () => ended, (x) => x)
      expect(details).toBeGreaterThan(1)
      reqHist(c, 6, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "1 hour" })
      const bars = await outcome(c, 6)
      expect(bars._tag === "bars" ? bars.bars.length : bars, `v${v}`).toBe(7)
      reqHist(c, 7, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "7 mins" })
      expect(await outcome(c, 7)).toMatchObject({ _tag: "error", error: { code: 321 } })
      expect(codes(c.errors), `v${v}`).not.toContain(505)
      expect(c.errors.map((e) => e.reqId)).toEqual([7])
      c.close()
    }
  })

  it("a version range that includes 193 gets the version frame `193\\0<time> EST|EDT\\0`", async () => {
    const s = await rawSocket(res, sim.port)
    s.socket.write(helloBytes("v100..200"))
    const frame = await waitFor(
      "version frame",
      () => s.received(),
      (b) => b.length >= 4 && b.length >= 4 + b.readUInt32BE(0)
    )
    const body = frame.subarray(4, 4 + frame.readUInt32BE(0)).toString("utf8")
    expect(body).toMatch(/^193\0\d{8} \d{2}:\d{2}:\d{2} E[SD]T\0$/)
    expect(s.isClosed()).toBe(false)
  })

  it("openConnections returns to 0 after every client disconnects", async () => {
    const a = await connectNext(res, sim.port, 1)
    const b = await connectRaw(res, sim.port, 2)
    const c = await connectNext(res, sim.port, 3)
    expect(sim.stats().openConnections).toBe(3)
    expect(sim.stats().clientIds).toEqual([1, 2, 3])
    a.close()
    b.close()
    c.close()
    await waitFor("openConnections 0", () => sim.stats().openConnections, (n) => n === 0, 1000)
    expect(sim.stats().clientIds).toEqual([])
    expect(sim.stats().totalConnections).toBe(3)
  })
})
