/** Determinism and cross-size consistency: every bar size is an exact aggregate of the one-minute bars. */
import fc from "fast-check"
import { DateTime } from "luxon"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { Bar, Contract } from "@stoqey/ib"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  AAPL,
  aggregate,
  bar,
  codeOf,
  codes,
  connectNext,
  connectRaw,
  EURUSD,
  local,
  ohlcv,
  outcome,
  reqHist,
  Resources,
  SPX,
  stock,
  what,
  within,
  type NextClient
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let next: NextClient
/** Every bar any test in this file received, for the OHLC invariants. */
const seen: Array<{ readonly where: string; readonly bar: Bar }> = []

beforeAll(async () => {
  sim = await res.sim({ pacing: "off" })
  next = await connectNext(res, sim.port, 1)
})
afterAll(() => res.closeAll())
afterEach(() => {
  expect(codes(next.errors)).not.toContain(505)
})

const hist = async (
  contract: Contract,
  end: string,
  duration: string,
  barSize: string,
  useRTH: boolean,
  whatToShow = "TRADES"
): Promise<Array<Bar>> => {
  const where = `${contract.symbol} ${end} ${duration} ${barSize} rth=${useRTH} ${whatToShow}`
  const bars = await within(
    next.ib.getHistoricalData(contract, end, duration, bar(barSize), what(whatToShow), useRTH ? 1 : 0, 1),
    20_000,
    where
  )
  for (const b of bars) seen.push({ where, bar: b })
  return bars
}

const DAY_END = "20240305 23:59:00 US/Eastern"
const hhmm = (b: Bar) => local(b.time!).hhmm

/** Expected WAP of an aggregate: the volume-weighted mean of the parts, rounded to 1/100 tick (0.0001). */
const wapOf = (parts: ReadonlyArray<Bar>) => {
  let wv = 0
  let v = 0
  for (const p of parts) {
    wv += p.WAP! * p.volume!
    v += p.volume!
  }
  return Math.round((wv / v) * 10000) / 10000
}

/** Groups the minute bars into the buckets the larger bars label, and compares each with its bar. */
const expectAggregates = (
  large: ReadonlyArray<Bar>,
  minutes: ReadonlyArray<Bar>,
  bucketOf: (minute: Bar) => string,
  withVolume = true
) => {
  const groups = new Map<string, Array<Bar>>()
  for (const m of minutes) {
    const k = bucketOf(m)
    const g = groups.get(k)
    if (g) g.push(m)
    else groups.set(k, [m])
  }
  expect([...groups.keys()]).toEqual(large.map((b) => b.time))
  for (const b of large) {
    const parts = groups.get(b.time!)!
    if (!withVolume) {
      // Quote bars carry no volume: compare prices only.
      const { volume: _, ...prices } = aggregate(parts.map((p) => ({ ...p, volume: 0 })))
      expect({ open: b.open, high: b.high, low: b.low, close: b.close }, b.time).toEqual(prices)
      expect(b.volume).toBeUndefined()
      continue
    }
    expect(ohlcv(b), b.time).toEqual(aggregate(parts))
    expect(b.count, b.time).toBe(parts.reduce((a, p) => a + p.count!, 0))
    expect(b.WAP, b.time).toBeCloseTo(wapOf(parts), 4)
  }
}

/** The label of the clock-aligned bucket of `size` minutes holding a minute bar, clipped to the session open. */
const bucket = (sizeMin: number, sessionOpen: string) => (m: Bar) => {
  const { day, hhmm: t, zone } = local(m.time!)
  const minutes = Number(t.slice(0, 2)) * 60 + Number(t.slice(3))
  const open = Number(sessionOpen.slice(0, 2)) * 60 + Number(sessionOpen.slice(3))
  const start = Math.max(open, Math.floor(minutes / sizeMin) * sizeMin)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${day} ${pad(Math.floor(start / 60))}:${pad(start % 60)}:00 ${zone}`
}

describe("determinism", () => {
  it("the same request on two connections (IBApiNext and IBApi) gives identical bars", async () => {
    const a = await hist(AAPL, "20240305 16:00:00 US/Eastern", "1 D", "5 mins", true)
    const other = await connectNext(res, sim.port, 2)
    const b = await within(
      other.ib.getHistoricalData(AAPL, "20240305 16:00:00 US/Eastern", "1 D", bar("5 mins"), what("TRADES"), 1, 1),
      10_000,
      "again"
    )
    expect(b).toEqual(a)
    expect(a).toHaveLength(78)
    const raw = await connectRaw(res, sim.port, 3)
    reqHist(raw, 1, { contract: AAPL, end: "20240305 16:00:00 US/Eastern", duration: "1 D", barSize: "5 mins" })
    const o = await outcome(raw, 1)
    expect(o._tag).toBe("bars")
    if (o._tag !== "bars") return
    expect(o.bars.map((x) => [x.time, x.open, x.high, x.low, x.close, x.volume, x.count, x.WAP])).toEqual(
      a.map((x) => [x.time, x.open, x.high, x.low, x.close, x.volume, x.count, x.WAP])
    )
  })

  it("a second simulator instance gives the same bars", async () => {
    const a = await hist(EURUSD, "20240305 16:00:00 US/Eastern", "2 D", "30 mins", false, "MIDPOINT")
    const sim2 = await res.sim({ pacing: "off" })
    const c2 = await connectNext(res, sim2.port, 1)
    const b = await within(
      c2.ib.getHistoricalData(EURUSD, "20240305 16:00:00 US/Eastern", "2 D", bar("30 mins"), what("MIDPOINT"), 0, 1),
      10_000,
      "sim2"
    )
    expect(b).toEqual(a)
    expect(a.length).toBeGreaterThan(40)
  })
})

describe("aggregation", () => {
  it("RTH: each hourly bar is the exact aggregate of its one-minute bars (the 09:30 bar of 30)", async () => {
    const hourly = await hist(AAPL, DAY_END, "1 D", "1 hour", true)
    const minutes = await hist(AAPL, DAY_END, "1 D", "1 min", true)
    expect(minutes).toHaveLength(390)
    expect(hourly).toHaveLength(7)
    expectAggregates(hourly, minutes, bucket(60, "09:30"))
    // One full hour spelled out: 60 minutes 10:00–10:59.
    const ten = minutes.filter((m) => hhmm(m).startsWith("10:"))
    expect(ten).toHaveLength(60)
    expect(ohlcv(hourly[1]!)).toEqual(aggregate(ten))
  })

  it("useRTH=0: hourly bars aggregate the 04:00–20:00 minute bars", async () => {
    const hourly = await hist(AAPL, DAY_END, "1 D", "1 hour", false)
    const minutes = await hist(AAPL, DAY_END, "1 D", "1 min", false)
    expect(minutes).toHaveLength(960)
    expect(hourly).toHaveLength(16)
    expectAggregates(hourly, minutes, bucket(60, "04:00"))
  })

  it("5-min bars aggregate 1-min bars; so do 30-min and 2-hour bars", async () => {
    const minutes = await hist(AAPL, DAY_END, "1 D", "1 min", true)
    expectAggregates(await hist(AAPL, DAY_END, "1 D", "5 mins", true), minutes, bucket(5, "09:30"))
    expectAggregates(await hist(AAPL, DAY_END, "1 D", "30 mins", true), minutes, bucket(30, "09:30"))
    expectAggregates(await hist(AAPL, DAY_END, "1 D", "2 hours", true), minutes, bucket(120, "09:30"))
  })

  it("the daily bar is the aggregate of the day's minute bars (RTH and extended)", async () => {
    for (const rth of [true, false]) {
      const minutes = await hist(AAPL, DAY_END, "1 D", "1 min", rth)
      const [daily, ...rest] = await hist(AAPL, DAY_END, "1 D", "1 day", rth)
      expect(rest).toEqual([])
      expect(daily!.time).toBe("20240305")
      expect(ohlcv(daily!)).toEqual(aggregate(minutes))
      expect(daily!.count).toBe(minutes.reduce((a, m) => a + m.count!, 0))
      expect(daily!.WAP).toBeCloseTo(wapOf(minutes), 4)
    }
  })

  it("weekly bars aggregate daily bars", async () => {
    const daily = await hist(AAPL, "20240315 23:00:00 US/Eastern", "2 W", "1 day", true)
    const weekly = await hist(AAPL, "20240315 23:00:00 US/Eastern", "2 W", "1 week", true)
    expect(daily.map((b) => b.time)).toEqual([
      "20240304",
      "20240305",
      "20240306",
      "20240307",
      "20240308",
      "20240311",
      "20240312",
      "20240313",
      "20240314",
      "20240315"
    ])
    expect(weekly).toHaveLength(2)
    expect(ohlcv(weekly[0]!)).toEqual(aggregate(daily.slice(0, 5)))
    expect(ohlcv(weekly[1]!)).toEqual(aggregate(daily.slice(5)))
  })

  it("60 one-second bars aggregate to their minute bar; so do 5-sec and 30-sec bars", async () => {
    const minute = await hist(AAPL, "20240305 10:01:00 US/Eastern", "60 S", "1 min", true)
    expect(minute.map((b) => b.time)).toEqual(["20240305 10:00:00 US/Eastern"])
    const secs = await hist(AAPL, "20240305 10:01:00 US/Eastern", "60 S", "1 secs", true)
    expect(secs).toHaveLength(60)
    expect(secs[0]!.time).toBe("20240305 10:00:00 US/Eastern")
    expect(secs[59]!.time).toBe("20240305 10:00:59 US/Eastern")
    expect(aggregate(secs)).toEqual(ohlcv(minute[0]!))
    expect(secs.reduce((a, s) => a + s.count!, 0)).toBe(minute[0]!.count)
    for (const size of ["5 secs", "30 secs"]) {
      const parts = await hist(AAPL, "20240305 10:01:00 US/Eastern", "60 S", size, true)
      expect(parts).toHaveLength(60 / Number(size.split(" ")[0]))
      expect(aggregate(parts)).toEqual(ohlcv(minute[0]!))
    }
    // The same minute from a whole day's request is the same bar.
    const dayMinutes = await hist(AAPL, DAY_END, "1 D", "1 min", true)
    expect(dayMinutes.find((b) => b.time === "20240305 10:00:00 US/Eastern")).toEqual(minute[0])
  })

  it("quote bars: BID/ASK are the MIDPOINT path shifted by half the spread, aggregated the same way", async () => {
    const mid = await hist(AAPL, DAY_END, "1 D", "1 hour", true, "MIDPOINT")
    const bidMin = await hist(AAPL, DAY_END, "1 D", "1 min", true, "BID")
    const bid = await hist(AAPL, DAY_END, "1 D", "1 hour", true, "BID")
    expect(bid.map((b) => b.time)).toEqual(mid.map((b) => b.time))
    expectAggregates(bid, bidMin, bucket(60, "09:30"), false)
    for (let i = 0; i < mid.length; i++) expect(bid[i]!.close).toBeCloseTo(mid[i]!.close! - 0.01, 6)
  })
})

describe("invariants", () => {
  it(
    "random requests: bars are ordered, inside the window, " +
      "with low ≤ open, close ≤ high and low > 0",
    async () => {
      const contracts: ReadonlyArray<readonly [Contract, string]> = [
        [AAPL, "TRADES"],
        [stock("IBM"), "TRADES"],
        [stock("SPY"), "MIDPOINT"],
        [EURUSD, "MIDPOINT"],
        [EURUSD, "BID_ASK"],
        [SPX, "TRADES"]
      ]
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...contracts),
          fc.integer({ min: 0, max: 700 }),
          fc.constantFrom("1 min", "3 mins", "15 mins", "20 mins", "1 hour", "4 hours", "1 day"),
          fc.boolean(),
          async ([contract, w], dayOffset, size, rth) => {
            const d = new Date(Date.UTC(2023, 0, 2) + dayOffset * 86_400_000)
            const end = `${d.toISOString().slice(0, 10).replaceAll("-", "")} 18:00:00 US/Eastern`
            const bars = await within(
              next.ib.getHistoricalData(
                contract,
                end,
                size === "1 min" ? "1 D" : "2 D",
                bar(size),
                what(w),
                rth ? 1 : 0,
                2
              ).then(
                (bs) => bs,
                (e: unknown) => {
                  // A window without sessions is IB's "no data", never anything else.
                  expect(codeOf(e)).toBe(162)
                  expect((e as Error).message).toContain("HMDS query returned no data")
                  return []
                }
              ),
              20_000,
              `${contract.symbol} ${end} ${size}`
            )
            const endMs = DateTime.fromObject({
              year: d.getUTCFullYear(),
              month: d.getUTCMonth() + 1,
              day: d.getUTCDate(),
              hour: 18
            }, { zone: "America/New_York" }).toMillis()
            // Forex sessions open the evening before: the session in progress at 18:00 is the next trading day's.
            const endDay = contract === EURUSD
              ? new Date(d.getTime() + 86_400_000).toISOString().slice(0, 10).replaceAll("-", "")
              : end.slice(0, 8)
            let prev = ""
            for (const b of bars) {
              seen.push({ where: `${contract.symbol} ${end} ${size} ${w}`, bar: b })
              const t = b.time!
              // Same-length digit strings: string order is time order (epoch seconds, or yyyyMMdd for daily bars).
              expect(t > prev).toBe(true)
              prev = t
              if (size === "1 day") expect(t <= endDay).toBe(true)
              else {
                expect(Number(t) * 1000).toBeLessThan(endMs)
                expect(Number(t) * 1000).toBeGreaterThan(endMs - 7 * 86_400_000)
              }
            }
          }
        ),
        { numRuns: 25, seed: 20240305 }
      )
    }
  )

  it("every bar received in this file satisfies the OHLC invariants", () => {
    expect(seen.length).toBeGreaterThan(3000)
    for (const { where, bar: b } of seen) {
      const ok = b.low! > 0 && b.low! <= b.open! && b.low! <= b.close! && b.open! <= b.high! && b.close! <= b.high!
      if (!ok) expect.fail(`${where} ${JSON.stringify(b)}`)
      if (b.volume !== undefined) expect(b.volume).toBeGreaterThanOrEqual(0)
      if (b.WAP !== undefined && b.volume! > 0) {
        expect(b.WAP).toBeGreaterThanOrEqual(b.low! - 1e-9)
        expect(b.WAP).toBeLessThanOrEqual(b.high! + 1e-9)
      }
    }
  })
})
