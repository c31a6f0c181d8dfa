/**
 * The simulator with a client that is not @stoqey/ib: the independent test client (twsClient.ts) offers
 * v157..178 like older libraries, sends the usual startup requests and checks every answer and end marker;
 * then every frame the simulator writes at each server version is decoded by that client's strict decoder.
 */
import { afterEach, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { Resources } from "./support.ts"
import { type Contract, TwsTestClient } from "./twsClient.ts"

const res = new Resources()
afterEach(() => res.closeAll())

const client = async (sim: GatewaySimulator, o: { min?: number; max?: number; clientId?: number } = {}) => {
  const c = await TwsTestClient.connect(sim.port, {
    minVersion: o.min ?? 157,
    maxVersion: o.max ?? 178,
    clientId: o.clientId ?? 0
  })
  res.add(() => c.close())
  return c
}

const AAPL: Contract = { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }
const EURUSD: Contract = { symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD" }
const ES: Contract = { symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD" }
const SPX: Contract = { symbol: "SPX", secType: "IND", exchange: "CBOE", currency: "USD" }

/** Nothing unanswered, nothing refused as unsupported, nothing unreadable. */
const expectCleanStats = (sim: GatewaySimulator) => {
  const st = sim.stats()
  expect({ unanswered: st.unanswered, unsupported: st.unsupported, unreadable: st.unreadable }).toEqual({
    unanswered: 0,
    unsupported: {},
    unreadable: 0
  })
}

describe("a client offering v157..178 (like older libraries)", () => {
  it("gets server version 178 and a fully answered startup: every end marker, a USD paper account", async () => {
    const sim = await res.sim()
    const c = await client(sim)
    expect(c.serverVersion).toBe(178)
    expect(c.serverTime).toMatch(/^\d{8} \d{2}:\d{2}:\d{2} E[SD]T$/)
    const account = c.named("MANAGED_ACCTS")[0]!.f["accounts"]!
    expect(account).toBe("DU1234567")
    c.startup(account, { multi: 9001, executions: 9002 })
    const ends = [
      "POSITION_END",
      "OPEN_ORDER_END",
      "COMPLETED_ORDERS_END",
      "ACCT_DOWNLOAD_END",
      "ACCOUNT_UPDATE_MULTI_END",
      "EXECUTION_DATA_END"
    ]
    await c.waitFor("every end marker", () => ends.every((e) => c.named(e).length === 1))
    expect(c.named("ACCT_DOWNLOAD_END")[0]!.f["account"]).toBe(account)
    expect(c.named("ACCOUNT_UPDATE_MULTI_END")[0]!.f["reqId"]).toBe("9001")
    expect(c.named("EXECUTION_DATA_END")[0]!.f["reqId"]).toBe("9002")
    // A paper account with cash and nothing else: no positions, orders or executions before the end markers.
    for (const none of ["POSITION", "OPEN_ORDER", "COMPLETED_ORDER", "EXECUTION_DATA", "PORTFOLIO_VALUE"]) {
      expect(c.named(none)).toEqual([])
    }
    const values = new Map(c.named("ACCT_VALUE").map((m) => [m.f["key"], m.f]))
    expect(values.size).toBeGreaterThanOrEqual(8)
    expect(values.get("NetLiquidation")).toMatchObject({ currency: "USD", account })
    expect(Number(values.get("NetLiquidation")!["value"])).toBeGreaterThan(0)
    expect(values.get("TotalCashValue")!["value"]).toBe(values.get("NetLiquidation")!["value"])
    expect(values.get("GrossPositionValue")!["value"]).toBe("0.00")
    expect(c.named("ACCT_UPDATE_TIME")[0]!.f["time"]).toMatch(/^\d{2}:\d{2}$/)
    const multi = c.named("ACCOUNT_UPDATE_MULTI")
    expect(multi.map((m) => m.f["key"])).toEqual([...values.keys()])
    expect(multi.every((m) => m.f["reqId"] === "9001" && m.f["account"] === account)).toBe(true)
    expect(c.errors().filter((e) => Number(e.f["code"]) < 2100)).toEqual([])
    expect(c.malformed).toEqual([])
    expect(sim.stats().requests.byType).toMatchObject({
      Positions: 1,
      OpenOrders: 1,
      CompletedOrders: 1,
      AccountData: 1,
      AccountUpdatesMulti: 1,
      Executions: 1
    })
    expectCleanStats(sim)
  })

  it("account summary, ids, data type, positions multi, cancels, orders: answered as a gateway would", async () => {
    const sim = await res.sim()
    const c = await client(sim)
    const firstId = Number(c.named("NEXT_VALID_ID")[0]!.f["orderId"])
    c.send([62, 1, 7, "All", "NetLiquidation,BuyingPower,TotalCashValue"])
    c.send([8, 1, 1])
    c.send([8, 1, 5])
    c.send([8, 1, 1])
    c.send([59, 1, 3]) // delayed market data
    c.send([74, 1, 8, "DU1234567", ""]) // reqPositionsMulti
    c.send([3, 42, 0, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", "", "", "BUY", 1, "MKT"]) // placeOrder
    c.send([4, 1, 43, ""]) // cancelOrder at v178: version, orderId, manualOrderCancelTime
    c.send([58, 1]) // reqGlobalCancel
    c.send([63, 1, 7]) // cancelAccountSummary
    c.send([77, 1, 99]) // cancelAccountUpdatesMulti
    c.send([64, 1]) // cancelPositions
    c.send([49, 1]) // a request after all of them: its answer means every one before was read
    await c.waitFor("current time", () => c.named("CURRENT_TIME").length === 1)
    await c.waitFor("summary end", () => c.named("ACCOUNT_SUMMARY_END").length === 1)
    const rows = c.named("ACCOUNT_SUMMARY")
    expect(rows.map((r) => r.f["tag"]).sort()).toEqual(["BuyingPower", "NetLiquidation", "TotalCashValue"])
    expect(rows.every((r) => r.f["reqId"] === "7" && r.f["currency"] === "USD" && Number(r.f["value"]) > 0)).toBe(
      true
    )
    const ids = c.named("NEXT_VALID_ID").map((m) => Number(m.f["orderId"]))
    expect(ids).toHaveLength(4)
    expect(ids[0]).toBe(firstId)
    for (let k = 1; k < ids.length; k++) expect(ids[k]!).toBeGreaterThan(ids[k - 1]!)
    expect(ids[3]! - ids[2]!).toBe(5) // the five ids asked for are used up
    expect(c.named("POSITION_MULTI_END").map((m) => m.f["reqId"])).toEqual(["8"])
    const err = (id: number) => c.errors(id).map((e) => [e.f["code"], e.f["message"]])
    expect(err(42)).toEqual([[
      "321",
      "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
    ]])
    expect(err(43)).toEqual([["10147", "OrderId 43 that needs to be cancelled is not found."]])
    expect(c.errors().filter((e) => ![42, 43].includes(Number(e.f["id"])) && Number(e.f["code"]) < 2100))
      .toEqual([])
    expect(sim.stats().requests.byType).toMatchObject({ MarketDataType: 1, GlobalCancel: 1, PlaceOrder: 1 })
    expect(c.malformed).toEqual([])
    expectCleanStats(sim)
  })

  it("a request the simulator does not serve is refused with 321 on its id and counted, never ignored", async () => {
    const sim = await res.sim()
    const c = await client(sim)
    c.send([1, 11, 5, 265598, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", 0, "", 0, 0, ""]) // reqMktData
    c.send([50, 3, 6, 265598, "AAPL", "STK", "", 0, "", "", "SMART", "", "USD", "", "", 5, "TRADES", 1, ""]) // RT bars
    await c.waitFor("two refusals", () => c.errors().filter((e) => e.f["code"] === "321").length === 2)
    expect(c.errors(5)[0]!.f["message"]).toContain("REQ_MKT_DATA is not supported")
    expect(c.errors(6)[0]!.f["message"]).toContain("REQ_REAL_TIME_BARS is not supported")
    expect(sim.stats().unsupported).toEqual({ REQ_MKT_DATA: 1, REQ_REAL_TIME_BARS: 1 })
    expect(sim.stats().unsupportedTotal).toBe(2)
    expect(c.malformed).toEqual([])
  })
})

/** Historical data, head timestamps, contract details, errors, streams and schedules at server version v. */
const exercise = async (sim: GatewaySimulator, max: number) => {
  const c = await client(sim, { min: 100, max })
  expect(c.serverVersion).toBe(max)
  const contracts = [AAPL, EURUSD, ES, SPX]
  contracts.forEach((k, i) => c.reqContractDetails(10 + i, k))
  c.reqContractDetails(20, { symbol: "NOSUCH", secType: "STK", exchange: "SMART", currency: "USD" })
  const end = "20240305 16:00:00 US/Eastern"
  c.reqHistoricalData(30, AAPL, { end, duration: "2 D", barSize: "1 hour", whatToShow: "TRADES", useRTH: true })
  c.reqHistoricalData(31, EURUSD, { end, duration: "1 W", barSize: "1 day", whatToShow: "MIDPOINT", useRTH: false })
  c.reqHistoricalData(32, AAPL, { end, duration: "1 D", barSize: "3 mins", whatToShow: "BOGUS", useRTH: true })
  if (max >= 118) c.reqHeadTimestamp(40, AAPL, "TRADES", true, 1)
  if (max >= 124) {
    c.reqHistoricalData(50, SPX, { end: "", duration: "1800 S", barSize: "1 min", whatToShow: "TRADES", useRTH: false })
    c.send([
      20,
      51,
      0,
      "AAPL",
      "STK",
      "",
      "",
      "",
      "",
      "SMART",
      "",
      "USD",
      "",
      "",
      0,
      "",
      "1 min",
      "600 S",
      0,
      "TRADES",
      1,
      1,
      ""
    ])
  }
  if (max >= 165) {
    c.reqHistoricalData(60, AAPL, { end, duration: "5 D", barSize: "1 day", whatToShow: "SCHEDULE", useRTH: true })
  }
  c.startup("DU1234567", { multi: 70, executions: 71 })
  c.send([62, 1, 72, "All", "All"])
  await c.waitFor("contract details", () => c.named("CONTRACT_DATA_END").length === 4 && c.errors(20).length === 1)
  await c.waitFor("bars and the 321", () => c.named("HISTORICAL_DATA").length >= 2 && c.errors(32).length === 1)
  if (max >= 118) await c.waitFor("head timestamp", () => c.named("HEAD_TIMESTAMP").length === 1)
  if (max >= 124) await c.waitFor("a stream update", () => c.named("HISTORICAL_DATA_UPDATE").length >= 1)
  if (max >= 165) await c.waitFor("schedule", () => c.named("HISTORICAL_SCHEDULE").length === 1)
  await c.waitFor("summary end", () => c.named("ACCOUNT_SUMMARY_END").length === 1)
  await c.waitFor("executions end", () => c.named("EXECUTION_DATA_END").length === 1)
  c.send([25, 1, 51]) // stop the stream
  return c
}

describe("every frame decodes at every server version", () => {
  for (const v of [100, 123, 124, 157, 163, 164, 166, 176, 182, 186, 187, 193]) {
    it(`v${v}`, async () => {
      const sim = await res.sim({ serverVersion: 193, clock: () => Date.UTC(2024, 2, 5, 15, 30), timeScale: 50 })
      const c = await exercise(sim, v)
      expect(c.malformed).toEqual([])
      const details = c.named("CONTRACT_DATA")
      expect(new Set(details.map((d) => d.f["secType"]))).toEqual(new Set(["STK", "CASH", "FUT", "IND"]))
      expect(details.find((d) => d.f["symbol"] === "AAPL")!.f["conId"]).toBe("265598")
      if (v >= 182) expect(details.find((d) => d.f["secType"] === "FUT")!.f["lastTradeDate"]).toMatch(/^\d{8}$/)
      expect(c.errors(20)[0]!.f["code"]).toBe("200")
      expect(c.errors(32)[0]!.f["code"]).toBe("321")
      const hourly = c.named("HISTORICAL_DATA").find((m) => m.f["reqId"] === "30")!
      // Monday's 7 regular-hours bars, and Tuesday's 09:30 and 10:00 before the clock's 10:30.
      expect(hourly.items).toHaveLength(9)
      expect(Number(hourly.items[0]!["barCount"])).toBeGreaterThan(0)
      if (v >= 165) {
        const sched = c.named("HISTORICAL_SCHEDULE")[0]!
        expect(sched.f["timeZone"]).toBe("US/Eastern")
        expect(sched.items).toHaveLength(5)
        expect(sched.items.at(-1)).toEqual({
          start: "20240305-09:30:00",
          end: "20240305-16:00:00",
          refDate: "20240305"
        })
      }
      expectCleanStats(sim)
    })
  }
})
