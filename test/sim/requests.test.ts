/** Every message type the simulator serves, round-tripped through the unmodified client (no 505 ever). */
import { DateTime } from "luxon"
import { EventName } from "@stoqey/ib"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  AAPL,
  bar,
  codeOf,
  codes,
  connectNext,
  connectRaw,
  ES,
  EURUSD,
  outcome,
  reqHist,
  Resources,
  sleep,
  SPX,
  UNKNOWN,
  waitFor,
  what,
  within,
  type NextClient
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let next: NextClient

beforeAll(async () => {
  sim = await res.sim()
  next = await connectNext(res, sim.port, 1)
})
afterAll(() => res.closeAll())
afterEach(() => {
  expect(codes(next.errors)).not.toContain(505)
})

const HOURS = /^\d{8}:(\d{4}-\d{8}:\d{4}|CLOSED)(;\d{8}:(\d{4}-\d{8}:\d{4}|CLOSED))*$/

const pad2 = (n: number) => String(n).padStart(2, "0")
const ymd = (d: Date) => `${d.getUTCFullYear()}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`

/** The first quarterly expiry (third Friday of Mar/Jun/Sep/Dec, trading ends 08:30 Chicago) not yet past. */
const nextQuarterlyExpiry = (now: Date): string => {
  for (let y = now.getUTCFullYear();; y++) {
    for (const m of [3, 6, 9, 12]) {
      const first = new Date(Date.UTC(y, m - 1, 1)).getUTCDay()
      const day = 1 + ((5 - first + 7) % 7) + 14
      const ends = DateTime.fromObject({ year: y, month: m, day, hour: 8, minute: 30 }, { zone: "America/Chicago" })
        .toMillis()
      if (ends > now.getTime()) return `${y}${pad2(m)}${pad2(day)}`
    }
  }
}

describe("current time, accounts, ids", () => {
  it("REQ_CURRENT_TIME (49) answers epoch seconds", async () => {
    const before = sim.stats().requests.currentTime
    const t = await within(next.ib.getCurrentTime(), 5000, "getCurrentTime")
    expect(Number.isInteger(t)).toBe(true)
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60)
    expect(sim.stats().requests.currentTime).toBe(before + 1)
  })

  it("REQ_MANAGED_ACCTS (17) answers DU1234567 on both clients", async () => {
    expect(await within(next.ib.getManagedAccounts(), 5000, "getManagedAccounts")).toEqual(["DU1234567"])
    const raw = await connectRaw(res, sim.port, 2)
    const seen = raw.events.filter((e) => e.kind === "managedAccounts").length
    raw.api.reqManagedAccts()
    await waitFor(
      "second managedAccounts",
      () => raw.events.filter((e) => e.kind === "managedAccounts"),
      (l) => l.length === seen + 1
    )
    expect(raw.events.filter((e) => e.kind === "managedAccounts").at(-1)).toEqual({
      kind: "managedAccounts",
      accounts: "DU1234567"
    })
    raw.close()
  })

  it("REQ_IDS (8) answers NEXT_VALID_ID with ids that only grow (the login's was 1)", async () => {
    const first = await within(next.ib.getNextValidOrderId(), 5000, "getNextValidOrderId")
    expect(first).toBeGreaterThan(1)
    expect(await within(next.ib.getNextValidOrderId(), 5000, "getNextValidOrderId")).toBeGreaterThan(first)
    const raw = await connectRaw(res, sim.port, 3)
    raw.api.reqIds()
    await waitFor("second nextValidId", () => raw.events.filter((e) => e.kind === "nextValidId").length, (n) => n === 2)
    expect(raw.events.filter((e) => e.kind === "nextValidId").map((e) => e.kind === "nextValidId" && e.id)).toEqual([
      1,
      2
    ])
    expect(raw.errors).toEqual([])
    raw.close()
  })
})

describe("contract details (9 → 10, 52)", () => {
  it("stock AAPL", async () => {
    const before = sim.stats().requests.contractDetails
    const list = await within(next.ib.getContractDetails(AAPL), 5000, "AAPL details")
    expect(list).toHaveLength(1)
    const d = list[0]!
    expect(d.contract.conId).toBe(265598)
    expect(d.contract.symbol).toBe("AAPL")
    expect(d.contract.secType).toBe("STK")
    expect(d.contract.exchange).toBe("SMART")
    expect(d.contract.primaryExch).toBe("NASDAQ")
    expect(d.contract.currency).toBe("USD")
    expect(d.timeZoneId).toBe("US/Eastern")
    expect(d.longName).toBe("APPLE INC")
    expect(d.minTick).toBe(0.01)
    expect(d.stockType).toBe("COMMON")
    expect(d.secIdList).toEqual([{ tag: "ISIN", value: "US0378331005" }])
    expect(d.tradingHours).toMatch(HOURS)
    expect(d.liquidHours).toMatch(HOURS)
    // Regular hours are 09:30–16:00 (13:00 on early closes); extended 04:00–20:00 (17:00).
    for (const part of d.liquidHours!.split(";")) {
      if (!part.endsWith("CLOSED")) expect(part).toMatch(/^\d{8}:0930-\d{8}:(1600|1300)$/)
    }
    for (const part of d.tradingHours!.split(";")) {
      if (!part.endsWith("CLOSED")) expect(part).toMatch(/^\d{8}:0400-\d{8}:(2000|1700)$/)
    }
    expect(sim.stats().requests.contractDetails).toBe(before + 1)
  })

  it("forex EUR.USD", async () => {
    const [d, ...rest] = await within(next.ib.getContractDetails(EURUSD), 5000, "EUR.USD details")
    expect(rest).toEqual([])
    expect(d!.contract.conId).toBe(12087792)
    expect(d!.contract.secType).toBe("CASH")
    expect(d!.contract.exchange).toBe("IDEALPRO")
    expect(d!.contract.localSymbol).toBe("EUR.USD")
    expect(d!.contract.currency).toBe("USD")
    expect(d!.timeZoneId).toBe("US/Eastern")
    expect(d!.tradingHours).toMatch(HOURS)
    // Forex sessions open the evening before at 17:15 and close at 17:00.
    for (const part of d!.tradingHours!.split(";")) {
      if (!part.endsWith("CLOSED")) expect(part).toMatch(/^\d{8}:1715-\d{8}:1700$/)
    }
  })

  it("futures ES on CME: several quarterly expiries with lastTradeDate and realExpirationDate", async () => {
    const list = await within(next.ib.getContractDetails(ES), 5000, "ES details")
    expect(list.length).toBeGreaterThanOrEqual(4)
    const today = ymd(new Date())
    const expiries = list.map((d) => d.contract.lastTradeDate!).sort()
    expect(new Set(expiries).size).toBe(list.length)
    expect(expiries[0]).toBe(nextQuarterlyExpiry(new Date()))
    for (const d of list) {
      const c = d.contract
      expect(c.symbol).toBe("ES")
      expect(c.secType).toBe("FUT")
      expect(c.exchange).toBe("CME")
      expect(c.multiplier).toBe(50)
      expect(c.lastTradeDate).toMatch(/^\d{8}$/)
      expect(c.lastTradeDate! >= today).toBe(true)
      expect(["03", "06", "09", "12"]).toContain(c.lastTradeDate!.slice(4, 6))
      expect(
        new Date(
          `${c.lastTradeDate!.slice(0, 4)}-${c.lastTradeDate!.slice(4, 6)}-${c.lastTradeDate!.slice(6)}T12:00:00Z`
        ).getUTCDay()
      ).toBe(5)
      // The library keeps the whole "date time zone" string (its split("\\s+") is not a regex).
      expect(c.lastTradeDateOrContractMonth).toBe(`${c.lastTradeDate} 08:30 US/Central`)
      expect(d.realExpirationDate).toBe(c.lastTradeDate)
      expect(d.contractMonth).toBe(c.lastTradeDate!.slice(0, 6))
      expect(d.timeZoneId).toBe("US/Central")
      expect(d.underSymbol).toBe("ES")
      expect(d.tradingHours).toMatch(HOURS)
    }
    // includeExpired adds the quarterlies that expired within two years.
    const withExpired = await within(
      next.ib.getContractDetails({ ...ES, includeExpired: true }),
      5000,
      "ES details incl. expired"
    )
    expect(withExpired.length).toBeGreaterThan(list.length)
    expect(withExpired.some((d) => d.contract.lastTradeDate! < today)).toBe(true)
    // A specific contract month selects exactly one.
    const one = await within(
      next.ib.getContractDetails({ ...ES, lastTradeDateOrContractMonth: expiries[1]!.slice(0, 6) }),
      5000,
      "one ES"
    )
    expect(one.map((d) => d.contract.lastTradeDate)).toEqual([expiries[1]])
  })

  it("index SPX", async () => {
    const [d, ...rest] = await within(next.ib.getContractDetails(SPX), 5000, "SPX details")
    expect(rest).toEqual([])
    expect(d!.contract.conId).toBe(416904)
    expect(d!.contract.secType).toBe("IND")
    expect(d!.contract.exchange).toBe("CBOE")
    expect(d!.timeZoneId).toBe("US/Eastern")
  })

  it("an unknown contract is error 200 and rejects the promise", async () => {
    const before = next.errors.length
    const err = await next.ib.getContractDetails(UNKNOWN).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(codeOf(err)).toBe(200)
    expect((err as Error).message).toBe("No security definition has been found for the request")
    expect(codes(next.errors.slice(before))).toEqual([200])
  })
})

describe("head timestamp (87 → 88)", () => {
  it("formatDate 1 is yyyyMMdd-HH:mm:ss UTC; AAPL's RTH head is 1980-12-12 14:30", async () => {
    expect(await within(next.ib.getHeadTimestamp(AAPL, what("TRADES"), true, 1), 5000, "head ts 1")).toBe(
      "19801212-14:30:00"
    )
  })

  it("formatDate 2 is epoch seconds", async () => {
    const ts = await within(next.ib.getHeadTimestamp(AAPL, what("TRADES"), true, 2), 5000, "head ts 2")
    expect(ts).toBe(String(Date.UTC(1980, 11, 12, 14, 30) / 1000))
  })

  it("useRTH=0 starts at the extended session's open (04:00 New York)", async () => {
    expect(await within(next.ib.getHeadTimestamp(AAPL, what("TRADES"), false, 1), 5000, "head ts ext")).toBe(
      "19801212-09:00:00"
    )
  })

  it("forex has no TRADES: 162", async () => {
    const err = await next.ib.getHeadTimestamp(EURUSD, what("TRADES"), true, 1).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(codeOf(err)).toBe(162)
    expect(await within(next.ib.getHeadTimestamp(EURUSD, what("MIDPOINT"), false, 2), 5000, "fx head")).toMatch(/^\d+$/)
  })
})

describe("historical data (20 → 17)", () => {
  it("formatDate 1: `yyyyMMdd HH:mm:ss US/Eastern`", async () => {
    const bars = await within(
      next.ib.getHistoricalData(AAPL, "20240305 16:00:00 US/Eastern", "1 D", bar("1 hour"), what("TRADES"), 1, 1),
      10_000,
      "hourly bars"
    )
    expect(bars.map((b) => b.time)).toEqual([
      "20240305 09:30:00 US/Eastern",
      "20240305 10:00:00 US/Eastern",
      "20240305 11:00:00 US/Eastern",
      "20240305 12:00:00 US/Eastern",
      "20240305 13:00:00 US/Eastern",
      "20240305 14:00:00 US/Eastern",
      "20240305 15:00:00 US/Eastern"
    ])
    for (const b of bars) {
      expect(b.volume).toBeGreaterThan(0)
      expect(b.count).toBeGreaterThan(0)
      expect(b.WAP).toBeGreaterThanOrEqual(b.low!)
      expect(b.WAP).toBeLessThanOrEqual(b.high!)
    }
  })

  it("formatDate 2: epoch seconds", async () => {
    const bars = await within(
      next.ib.getHistoricalData(AAPL, "20240305 16:00:00 US/Eastern", "1 D", bar("1 hour"), what("TRADES"), 1, 2),
      10_000,
      "hourly bars, epoch"
    )
    expect(bars).toHaveLength(7)
    expect(bars[0]!.time).toBe(String(Date.UTC(2024, 2, 5, 14, 30) / 1000))
    expect(bars[6]!.time).toBe(String(Date.UTC(2024, 2, 5, 20, 0) / 1000))
    expect(sim.stats().barsSent).toBeGreaterThanOrEqual(14)
  })

  it("the UTC end form `yyyyMMdd-HH:mm:ss` is accepted", async () => {
    const bars = await within(
      next.ib.getHistoricalData(AAPL, "20240305-21:00:00", "1 D", bar("1 hour"), what("TRADES"), 1, 1),
      10_000,
      "UTC end"
    )
    expect(bars).toHaveLength(7)
    expect(codes(next.errors)).not.toContain(2174)
  })
})

describe("cancelHistoricalData (25)", () => {
  it("cancelling before the answer yields 162 'API historical data query cancelled' and no bars", async () => {
    const slow = await res.sim({ latencyMs: 500 })
    const raw = await connectRaw(res, slow.port, 1)
    reqHist(raw, 42, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "1 hour" })
    raw.api.cancelHistoricalData(42)
    const o = await outcome(raw, 42)
    expect(o._tag).toBe("error")
    if (o._tag !== "error") return
    expect(o.error.code).toBe(162)
    expect(o.error.message).toBe("Historical Market Data Service error message:API historical data query cancelled: 42")
    await sleep(700) // past the original latency: nothing else arrives
    expect(raw.bars.get(42)).toBeUndefined()
    expect(raw.finished.has(42)).toBe(false)
    expect(slow.stats().historicalCancels).toBe(1)
    expect(slow.stats().openHistorical).toBe(0)
    // A cancel for an id that never existed is 366.
    raw.api.cancelHistoricalData(77)
    await waitFor("366", () => raw.errors.map((e) => e.code), (cs) => cs.includes(366))
    expect(raw.errors.find((e) => e.code === 366)).toMatchObject({
      reqId: 77,
      message: "No historical data query found for ticker id:77"
    })
    // The answered request still arrives with latency.
    reqHist(raw, 43, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "1 hour" })
    const done = await outcome(raw, 43)
    expect(done._tag === "bars" ? done.bars.length : -1).toBe(7)
    expect(codes(raw.errors)).not.toContain(505)
  })
})

describe("keepUpToDate (20 → 17, then 90 until 25)", () => {
  /** A gateway whose clock stands on a Tuesday at 10:30 New York, streaming every 5 s / 50. */
  const streaming = () => res.sim({ clock: () => Date.UTC(2024, 2, 5, 15, 30), timeScale: 50 })

  it(
    "IBApi: bars, then HISTORICAL_DATA_UPDATE with the live bar (clock pinned, so it stays the same) " +
      "(open, close, high, low order decoded right); cancel stops it",
    async () => {
      const s = await streaming()
      const raw = await connectRaw(res, s.port, 1)
      const updates: Array<
        {
          time: string
          open: number
          high: number
          low: number
          close: number
          volume: number
          count: number
          WAP: number
        }
      > = []
      raw.api.on(
        EventName.historicalDataUpdate,
        (
          reqId: number,
          time: string,
          open: number,
          high: number,
          low: number,
          close: number,
          volume: number,
          count: number,
          WAP: number
        ) => {
          if (reqId === 8) updates.push({ time, open, high, low, close, volume, count, WAP })
        }
      )
      raw.api.reqHistoricalData(8, AAPL, "", "1800 S", bar("1 min"), what("TRADES"), 1, 1, true)
      const o = await outcome(raw, 8)
      expect(o._tag).toBe("bars")
      if (o._tag !== "bars") return
      expect(o.bars).toHaveLength(30)
      const last = o.bars.at(-1)!
      expect(last.time).toBe("20240305 10:29:00 US/Eastern")
      await waitFor("three updates", () => updates.length, (n) => n >= 3)
      for (const u of updates) {
        expect(u.count).toBe(last.count) // barCount is the bar's trade count, not an update counter
        expect(u.time).toBe(last.time)
        expect([u.open, u.high, u.low, u.close, u.volume, u.WAP]).toEqual([
          last.open,
          last.high,
          last.low,
          last.close,
          last.volume,
          last.WAP
        ])
      }
      expect(s.stats().openHistorical).toBe(1)
      raw.api.cancelHistoricalData(8)
      await waitFor("stream closed", () => s.stats().openHistorical, (n) => n === 0)
      const seen = updates.length
      await sleep(400)
      expect(updates.length).toBeLessThanOrEqual(seen + 1) // at most one already on the wire
      expect(raw.errors).toEqual([]) // a stream's cancel is silent: no 162
      // keepUpToDate needs an empty end date.
      raw.api.reqHistoricalData(
        9,
        AAPL,
        "20240305 10:00:00 US/Eastern",
        "1800 S",
        bar("1 min"),
        what("TRADES"),
        1,
        1,
        true
      )
      const bad = await outcome(raw, 9)
      expect(bad._tag === "error" ? bad.error.code : 0).toBe(321)
    }
  )

  it("IBApiNext getHistoricalDataUpdates: updates arrive; unsubscribing cancels the stream", async () => {
    const s = await streaming()
    const c = await connectNext(res, s.port, 1)
    const seen: Array<string | undefined> = []
    const sub = c.ib.getHistoricalDataUpdates(AAPL, bar("1 min"), what("TRADES"), 2).subscribe({
      next: (b) => void seen.push(b.time)
    })
    try {
      await waitFor("two updates", () => seen.length, (n) => n >= 2)
    } finally {
      sub.unsubscribe()
    }
    // The library asks for "60 S" with useRTH=0 ending now: the live bar is 10:29.
    expect(seen[0]).toBe(String(Date.UTC(2024, 2, 5, 15, 29) / 1000))
    await waitFor(
      "cancel reached the gateway",
      () => s.stats(),
      (st) => st.historicalCancels === 1 && st.openHistorical === 0
    )
    expect(codes(c.errors)).toEqual([])
  })
})
