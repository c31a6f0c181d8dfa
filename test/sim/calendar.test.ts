/**
 * Bars only where the exchange trades: weekends, NYSE holidays, early closes, forex Sunday evenings, extended hours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { Bar } from "@stoqey/ib"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  AAPL,
  bar,
  codes,
  connectNext,
  ES,
  EURUSD,
  local,
  Resources,
  SPX,
  weekday,
  what,
  within,
  type NextClient
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let next: NextClient

beforeAll(async () => {
  sim = await res.sim({ pacing: "off" })
  next = await connectNext(res, sim.port, 1)
})
afterAll(() => res.closeAll())
afterEach(() => {
  expect(codes(next.errors)).not.toContain(505)
})

const hist = (
  contract = AAPL,
  end: string,
  duration: string,
  barSize: string,
  useRTH: boolean,
  whatToShow = "TRADES"
) =>
  within(
    next.ib.getHistoricalData(contract, end, duration, bar(barSize), what(whatToShow), useRTH ? 1 : 0, 1),
    15_000,
    `${end} ${duration} ${barSize}`
  )

const days = (bars: ReadonlyArray<Bar>) => [...new Set(bars.map((b) => local(b.time!).day))]
const times = (bars: ReadonlyArray<Bar>, day: string) =>
  bars.filter((b) => local(b.time!).day === day).map((b) => local(b.time!).hhmm)

describe("US equities", () => {
  it("a week of hourly bars has Monday–Friday only", async () => {
    const bars = await hist(AAPL, "20240311 00:00:00 US/Eastern", "1 W", "1 hour", true)
    expect(days(bars)).toEqual(["20240304", "20240305", "20240306", "20240307", "20240308"])
    for (const d of days(bars)) expect([1, 2, 3, 4, 5]).toContain(weekday(d))
    expect(bars).toHaveLength(5 * 7)
    for (const b of bars) expect(local(b.time!).zone).toBe("US/Eastern")
  })

  it("no bars on NYSE holidays: Good Friday 2024-03-29", async () => {
    const bars = await hist(AAPL, "20240402 00:00:00 US/Eastern", "1 W", "1 hour", true)
    expect(days(bars)).toEqual(["20240326", "20240327", "20240328", "20240401"])
    expect(days(bars)).not.toContain("20240329")
  })

  it("no bars on NYSE holidays: 2024-07-04, with the 07-03 early close", async () => {
    const bars = await hist(AAPL, "20240706 00:00:00 US/Eastern", "1 W", "30 mins", true)
    expect(days(bars)).toEqual(["20240701", "20240702", "20240703", "20240705"])
    expect(times(bars, "20240703").at(-1)).toBe("12:30")
    expect(times(bars, "20240705").at(-1)).toBe("15:30")
  })

  it("daily bars over a month skip weekends and holidays", async () => {
    const bars = await hist(AAPL, "20240105 23:00:00 US/Eastern", "1 M", "1 day", true)
    const ds = bars.map((b) => b.time!)
    expect(ds).not.toContain("20231225")
    expect(ds).not.toContain("20240101")
    for (const d of ds) expect([1, 2, 3, 4, 5]).toContain(weekday(d))
    expect(ds.at(-1)).toBe("20240105")
    expect(ds).toContain("20231226")
  })

  it("early close 2024-11-29: no RTH bars at or after 13:00", async () => {
    const hourly = await hist(AAPL, "20241129 20:00:00 US/Eastern", "1 D", "1 hour", true)
    expect(hourly.map((b) => local(b.time!).hhmm)).toEqual(["09:30", "10:00", "11:00", "12:00"])
    const minutes = await hist(AAPL, "20241129 20:00:00 US/Eastern", "1 D", "1 min", true)
    expect(minutes).toHaveLength(210)
    expect(local(minutes[0]!.time!).hhmm).toBe("09:30")
    expect(local(minutes.at(-1)!.time!).hhmm).toBe("12:59")
    // Extended hours end at 17:00 that day instead of 20:00.
    const ext = await hist(AAPL, "20241129 23:00:00 US/Eastern", "1 D", "1 hour", false)
    expect(local(ext[0]!.time!).hhmm).toBe("04:00")
    expect(local(ext.at(-1)!.time!).hhmm).toBe("16:00")
  })

  it("a Saturday endDateTime with 1 D returns Friday's session", async () => {
    const bars = await hist(AAPL, "20240309 12:00:00 US/Eastern", "1 D", "1 hour", true)
    expect(days(bars)).toEqual(["20240308"])
    expect(local(bars[0]!.time!).hhmm).toBe("09:30")
    expect(local(bars.at(-1)!.time!).hhmm).toBe("15:00")
    expect(bars).toHaveLength(7)
  })

  it("extended hours (useRTH=0) run 04:00–20:00", async () => {
    const bars = await hist(AAPL, "20240305 23:59:00 US/Eastern", "1 D", "1 hour", false)
    expect(bars.map((b) => local(b.time!).hhmm)).toEqual(
      ["04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19"].map((h) =>
        `${h}:00`
      )
    )
    const minutes = await hist(AAPL, "20240305 23:59:00 US/Eastern", "1 D", "1 min", false)
    expect(minutes).toHaveLength(16 * 60)
    expect(local(minutes[0]!.time!).hhmm).toBe("04:00")
    expect(local(minutes.at(-1)!.time!).hhmm).toBe("19:59")
  })

  it("across the DST change (2024-03-10) the session stays 09:30–16:00 New York time", async () => {
    const bars = await hist(AAPL, "20240312 00:00:00 US/Eastern", "2 D", "1 hour", true, "TRADES")
    expect(days(bars)).toEqual(["20240308", "20240311"])
    for (const d of days(bars)) {
      expect(times(bars, d)).toEqual(["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"])
    }
  })

  it("the SPX index has regular hours only, even with useRTH=0", async () => {
    const bars = await hist(SPX, "20240305 23:00:00 US/Eastern", "1 D", "1 hour", false)
    expect(local(bars[0]!.time!).hhmm).toBe("09:30")
    expect(local(bars.at(-1)!.time!).hhmm).toBe("15:00")
  })
})

describe("forex and futures", () => {
  it("EUR.USD trades from Sunday 17:15 New York, and not on Saturday", async () => {
    const bars = await hist(EURUSD, "20240311 12:00:00 US/Eastern", "2 D", "1 hour", false, "MIDPOINT")
    const ds = days(bars)
    expect(ds).toContain("20240310") // Sunday evening
    expect(ds).not.toContain("20240309") // Saturday
    expect(times(bars, "20240310")[0]).toBe("17:15")
    expect(times(bars, "20240310").at(-1)).toBe("23:00")
    // Friday's session ends at 17:00.
    expect(times(bars, "20240308").at(-1)).toBe("16:00")
    expect(times(bars, "20240311")[0]).toBe("00:00")
    expect(times(bars, "20240311").at(-1)).toBe("11:00")
  })

  it("an ES future trades from 17:00 Chicago the evening before (labelled US/Central)", async () => {
    const [front] = await within(next.ib.getContractDetails(ES), 5000, "ES")
    const c = front!.contract
    // The last full session before expiry: the bars end at or before 16:00 Chicago.
    const expiry = c.lastTradeDate!
    const bars = await within(
      next.ib.getHistoricalData({ conId: c.conId!, exchange: "CME" }, "", "1 M", bar("1 day"), what("TRADES"), 0, 1),
      15_000,
      "ES daily"
    )
    for (const b of bars) expect([1, 2, 3, 4, 5]).toContain(weekday(b.time!))
    expect(bars.at(-1)!.time! <= expiry).toBe(true)
    // A past Tuesday (not Christmas or New Year's Day): its session opens on Monday at 17:00 Chicago.
    const DAY = 86_400_000
    const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "")
    let t = Date.now() - 14 * DAY
    while (new Date(t).getUTCDay() !== 2 || ["1225", "0101"].includes(ymd(t).slice(4))) t -= DAY
    const tuesday = ymd(t)
    const monday = ymd(t - DAY)
    const hourly = await within(
      next.ib.getHistoricalData(
        { conId: c.conId!, exchange: "CME" },
        `${tuesday} 12:00:00 US/Central`,
        "1 D",
        bar("1 hour"),
        what("TRADES"),
        0,
        1
      ),
      15_000,
      "ES hourly"
    )
    expect(local(hourly[0]!.time!)).toEqual({ day: monday, hhmm: "17:00", zone: "US/Central" })
    expect(local(hourly.at(-1)!.time!)).toEqual({ day: tuesday, hhmm: "11:00", zone: "US/Central" })
  })
})
