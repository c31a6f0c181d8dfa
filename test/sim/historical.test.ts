/** Historical requests answered like IB's HMDS (tws-protocol.md §2.6, §5): validation codes and texts, data shape. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { LEGAL_BAR_SIZES_TEXT } from "../../src/sim/protocol.ts"
import {
  AAPL,
  bar,
  codeOf,
  codes,
  connectNext,
  connectRaw,
  EURUSD,
  outcome,
  reqHist,
  Resources,
  TSLA,
  what,
  within,
  type NextClient,
  type RawClient
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let next: NextClient
let raw: RawClient

// Pacing is exercised in pacing.test.ts; here it must not interfere with repeated requests.
beforeAll(async () => {
  sim = await res.sim({ pacing: "off" })
  next = await connectNext(res, sim.port, 1)
  raw = await connectRaw(res, sim.port, 2)
})
afterAll(() => res.closeAll())
afterEach(() => {
  expect(codes(next.errors)).not.toContain(505)
  expect(codes(raw.errors)).not.toContain(505)
})

const END = "20240305 16:00:00 US/Eastern"

/** The IBApiNextError a historical request rejects with. */
const rejection = async (p: Promise<unknown>): Promise<{ code: number | undefined; message: string }> => {
  const e = await within(
    p.then(
      () => {
        throw new Error("expected a rejection, got bars")
      },
      (e: unknown) => e
    ),
    10_000,
    "historical rejection"
  )
  return { code: codeOf(e), message: (e as Error).message }
}

describe("validation (321, 10314)", () => {
  it("an illegal bar size is 321 with the list of legal ones", async () => {
    const e = await rejection(next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 sec"), what("TRADES"), 1, 1))
    expect(e.code).toBe(321)
    expect(e.message).toContain("Historical data bar size setting is invalid")
    expect(e.message).toContain(LEGAL_BAR_SIZES_TEXT)
    expect(e.message).toContain("1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins")
  })

  it("a bad duration is 321", async () => {
    const e = await rejection(next.ib.getHistoricalData(AAPL, END, "10 X", bar("1 hour"), what("TRADES"), 1, 1))
    expect(e.code).toBe(321)
    expect(e.message).toContain("duration format is invalid: '10 X'")
  })

  it("a bar size outside the duration's step-table row is 321", async () => {
    const e = await rejection(next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 secs"), what("TRADES"), 1, 1))
    expect(e.code).toBe(321)
    expect(e.message).toContain("invalid step")
    const big = await rejection(next.ib.getHistoricalData(AAPL, END, "60 S", bar("1 hour"), what("TRADES"), 1, 1))
    expect(big.code).toBe(321)
  })

  it("formatDate 0 is 321", async () => {
    const e = await rejection(next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 hour"), what("TRADES"), 1, 0))
    expect(e.code).toBe(321)
    expect(e.message).toContain("Date formatting selection of 0 rejected")
  })

  it("an unknown whatToShow is 321", async () => {
    const e = await rejection(next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 hour"), what("LAST_TRADES"), 1, 1))
    expect(e.code).toBe(321)
  })

  it("a malformed endDateTime is 10314", async () => {
    for (
      const end of [
        "2024-03-05 16:00:00",
        "20240305 25:00:00 US/Eastern",
        "20240305 16:00:00 Mars/Olympus",
        "20240230 10:00:00 US/Eastern"
      ]
    ) {
      const e = await rejection(next.ib.getHistoricalData(AAPL, end, "1 D", bar("1 hour"), what("TRADES"), 1, 1))
      expect(e.code, end).toBe(10314)
      expect(e.message).toContain("End Date/Time: The date, time, or time-zone entered is invalid")
    }
  })

  it("an unknown contract is 200", async () => {
    const e = await rejection(
      next.ib.getHistoricalData(
        { symbol: "ZZZZ", secType: AAPL.secType!, exchange: "SMART", currency: "USD" },
        END,
        "1 D",
        bar("1 hour"),
        what("TRADES"),
        1,
        1
      )
    )
    expect(e.code).toBe(200)
  })
})

describe("data like IB's", () => {
  it("TRADES on EUR.USD is 162 'No historical market data'", async () => {
    const e = await rejection(next.ib.getHistoricalData(EURUSD, END, "1 D", bar("1 hour"), what("TRADES"), 0, 1))
    expect(e.code).toBe(162)
    expect(e.message).toContain("No historical market data")
    expect(e.message).toContain("EUR/CASH@IDEALPRO")
  })

  it("MIDPOINT bars carry no volume, WAP or count (IBApiNext omits them; raw values are -1)", async () => {
    const bars = await within(
      next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 hour"), what("MIDPOINT"), 1, 1),
      10_000,
      "midpoint"
    )
    expect(bars).toHaveLength(7)
    for (const b of bars) {
      expect(b.volume).toBeUndefined()
      expect(b.WAP).toBeUndefined()
      expect(b.count).toBeUndefined()
      expect(b.open).toBeGreaterThan(0)
    }
    reqHist(raw, 100, { contract: AAPL, end: END, duration: "1 D", barSize: "1 hour", whatToShow: "MIDPOINT" })
    const o = await outcome(raw, 100)
    expect(o._tag).toBe("bars")
    if (o._tag !== "bars") return
    expect(o.bars).toHaveLength(7)
    for (const b of o.bars) {
      expect(b.volume).toBe(-1)
      expect(b.WAP).toBe(-1)
      expect(b.count).toBe(-1)
    }
    // TRADES for the same window does carry them.
    const trades = await within(
      next.ib.getHistoricalData(AAPL, END, "1 D", bar("1 hour"), what("TRADES"), 1, 1),
      10_000,
      "trades"
    )
    expect(trades.every((b) => (b.volume ?? 0) > 0 && (b.count ?? 0) > 0 && (b.WAP ?? 0) > 0)).toBe(true)
  })

  it("forex MIDPOINT, BID, ASK and BID_ASK are served and ordered BID < ASK", async () => {
    const get = (w: string) =>
      within(next.ib.getHistoricalData(EURUSD, END, "1 D", bar("1 hour"), what(w), 0, 1), 10_000, w)
    const [mid, bid, ask, ba] = await Promise.all([get("MIDPOINT"), get("BID"), get("ASK"), get("BID_ASK")])
    expect(mid.length).toBeGreaterThan(20)
    expect(bid.map((b) => b.time)).toEqual(mid.map((b) => b.time))
    expect(ask.map((b) => b.time)).toEqual(mid.map((b) => b.time))
    expect(ba.map((b) => b.time)).toEqual(mid.map((b) => b.time))
    for (let i = 0; i < mid.length; i++) {
      expect(bid[i]!.close!).toBeLessThan(ask[i]!.close!)
      expect(ba[i]!.low!).toBeLessThanOrEqual(bid[i]!.low!)
      expect(ba[i]!.high!).toBeGreaterThanOrEqual(ask[i]!.high!)
      expect(mid[i]!.volume).toBeUndefined()
    }
  })

  it("daily bars are `yyyyMMdd` even with formatDate 2", async () => {
    const bars = await within(
      next.ib.getHistoricalData(AAPL, END, "1 M", bar("1 day"), what("TRADES"), 1, 2),
      10_000,
      "daily"
    )
    expect(bars.length).toBeGreaterThanOrEqual(19)
    expect(bars.length).toBeLessThanOrEqual(23)
    for (const b of bars) expect(b.time).toMatch(/^\d{8}$/)
    expect(bars.at(-1)!.time).toBe("20240305")
    const weekly = await within(
      next.ib.getHistoricalData(AAPL, END, "1 Y", bar("1 week"), what("TRADES"), 1, 2),
      10_000,
      "weekly"
    )
    expect(weekly.length).toBeGreaterThanOrEqual(50)
    for (const b of weekly) expect(b.time).toMatch(/^\d{8}$/)
  })

  it(
    "nothing before the head timestamp: a window before TSLA's 2010-06-29 listing is " +
      "162 'HMDS query returned no data'",
    async () => {
      const e = await rejection(
        next.ib.getHistoricalData(TSLA, "20100625 16:00:00 US/Eastern", "1 W", bar("1 day"), what("TRADES"), 1, 1)
      )
      expect(e.code).toBe(162)
      expect(e.message).toContain("HMDS query returned no data")
      expect(e.message).toContain("TSLA@SMART Trades")
      // A window straddling the listing starts exactly at the head.
      const bars = await within(
        next.ib.getHistoricalData(TSLA, "20100702 16:00:00 US/Eastern", "2 W", bar("1 day"), what("TRADES"), 1, 1),
        10_000,
        "tsla"
      )
      expect(bars[0]!.time).toBe("20100629")
      const head = await within(next.ib.getHeadTimestamp(TSLA, what("TRADES"), true, 1), 5000, "tsla head")
      expect(head).toBe("20100629-13:30:00")
    }
  )

  it("nothing after now: with the gateway clock at 10:30 New York, the last bar is the partial 10:00 bar", async () => {
    const pinned = await res.sim({ pacing: "off", clock: () => Date.UTC(2024, 2, 5, 15, 30) })
    const c = await connectNext(res, pinned.port, 1)
    for (const end of ["", END]) {
      const hourly = await within(
        c.ib.getHistoricalData(AAPL, end, "1 D", bar("1 hour"), what("TRADES"), 1, 1),
        10_000,
        `hourly to now (${end})`
      )
      expect(hourly.map((b) => b.time)).toEqual(["20240305 09:30:00 US/Eastern", "20240305 10:00:00 US/Eastern"])
      const minutes = await within(
        c.ib.getHistoricalData(AAPL, end, "1 D", bar("1 min"), what("TRADES"), 1, 1),
        10_000,
        `minutes to now (${end})`
      )
      expect(minutes).toHaveLength(60)
      expect(minutes.at(-1)!.time).toBe("20240305 10:29:00 US/Eastern")
      const partial = minutes.slice(30)
      expect(hourly[1]!.open).toBe(partial[0]!.open)
      expect(hourly[1]!.close).toBe(partial.at(-1)!.close)
      expect(hourly[1]!.high).toBe(Math.max(...partial.map((b) => b.high!)))
      expect(hourly[1]!.volume).toBe(partial.reduce((a, b) => a + b.volume!, 0))
    }
    expect(await within(c.ib.getCurrentTime(), 5000, "pinned time")).toBe(Date.UTC(2024, 2, 5, 15, 30) / 1000)
    expect(codes(c.errors)).not.toContain(505)
  })

  it("an endDateTime without a zone gives a 2174 warning (non-fatal) and bars", async () => {
    const before = next.errors.length
    const bars = await within(
      next.ib.getHistoricalData(AAPL, "20240305 16:00:00", "1 D", bar("1 hour"), what("TRADES"), 1, 1),
      10_000,
      "implied zone"
    )
    expect(bars).toHaveLength(7)
    expect(bars[0]!.time).toBe("20240305 09:30:00 US/Eastern")
    const warnings = next.errors.slice(before)
    expect(codes(warnings)).toEqual([2174])
    expect(warnings[0]!.error.message).toContain("Warning:")
  })

  it("a reused reqId while the first is still open is 322", async () => {
    const slow = await res.sim({ latencyMs: 300, pacing: "off" })
    const c = await connectRaw(res, slow.port, 1)
    reqHist(c, 5, { contract: AAPL, end: END, duration: "1 D", barSize: "1 hour" })
    reqHist(c, 5, { contract: AAPL, end: "20240304 16:00:00 US/Eastern", duration: "1 D", barSize: "1 hour" })
    const o = await outcome(c, 5)
    expect(o._tag).toBe("error")
    expect(o._tag === "error" ? o.error.code : 0).toBe(322)
  })
})
