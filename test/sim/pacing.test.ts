/**
 * IB's historical pacing rules exactly at their thresholds (tws-protocol.md §5.1), with the windows
 * shrunk by `timeScale`. Requests are fired through the raw IBApi without waiting for answers.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import { SecType, type Contract } from "@stoqey/ib"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import { LONG_WINDOW_MS } from "../../src/sim/pacing.ts"
import {
  codes,
  connectRaw,
  outcome,
  reqHist,
  Resources,
  sleep,
  stock,
  type HistArgs,
  type RawClient,
  type RawOutcome
} from "./support.ts"

const res = new Resources()
afterEach(() => res.closeAll())

const PACING = "Historical Market Data Service error message:Historical data request pacing violation"
const STOCKS = ["AAPL", "MSFT", "IBM", "SPY", "QQQ", "TSLA", "AMZN", "NVDA", "GOOGL"].map((s) => stock(s))
const FOREX: ReadonlyArray<Contract> = [
  ["EUR", "USD"],
  ["GBP", "USD"],
  ["USD", "JPY"],
  ["USD", "CHF"],
  ["AUD", "USD"],
  ["USD", "CAD"],
  ["EUR", "GBP"],
  ["EUR", "JPY"]
].map(([symbol, currency]) => ({ symbol: symbol!, secType: SecType.CASH, exchange: "IDEALPRO", currency: currency! }))

/**
 * The first request for an instrument builds its price path from the listing day (decades of sessions
 * for IBM or AAPL) — far longer than a scaled pacing window on a loaded machine. Build them once,
 * unpaced, so the tests below time only the pacing decisions.
 */
beforeAll(async () => {
  const warm = new Resources()
  try {
    const sim = await warm.sim({ pacing: "off" })
    const raw = await connectRaw(warm, sim.port, 1)
    const reqs = [...STOCKS, ...FOREX].map((c) => small(c, 0, c.secType === SecType.CASH ? "MIDPOINT" : "TRADES"))
    const os = await fire(raw, reqs)
    expect(summary(os).every((s) => s === "bars:60")).toBe(true)
  } finally {
    await warm.closeAll()
  }
}, 60_000)

const setup = async (options: SimulatorOptions): Promise<{ sim: GatewaySimulator; raw: RawClient }> => {
  const sim = await res.sim(options)
  const raw = await connectRaw(res, sim.port, 1)
  return { sim, raw }
}

/**
 * A small-bar request (30 secs over 1800 S, paced in strict mode); `minute` makes otherwise equal requests distinct.
 */
const small = (contract: Contract, minute: number, whatToShow = "TRADES"): HistArgs => ({
  contract,
  end: `20240305 ${String(11 + Math.floor(minute / 60)).padStart(2, "0")}:${
    String(minute % 60).padStart(2, "0")
  }:00 US/Eastern`,
  duration: "1800 S",
  barSize: "30 secs",
  whatToShow,
  useRTH: true
})

let nextId = 1
/** Fires every request at once; resolves with each outcome, in order. */
const fire = async (raw: RawClient, reqs: ReadonlyArray<HistArgs>): Promise<Array<RawOutcome>> => {
  const ids = reqs.map((r) => {
    const id = nextId++
    reqHist(raw, id, r)
    return id
  })
  return Promise.all(ids.map((id) => outcome(raw, id, 20_000)))
}

const isPaced = (o: RawOutcome) => o._tag === "error" && o.error.code === 162 && o.error.message === PACING
const summary = (os: ReadonlyArray<RawOutcome>) =>
  os.map((o) => (o._tag === "bars" ? `bars:${o.bars.length}` : isPaced(o) ? "paced" : `error:${o.error.code}`))

describe("strict pacing (bars ≤ 30 s)", () => {
  it(
    "an identical request within 15 s is a violation; " +
      "a different one is fine; after the window it passes",
    async () => {
      const { sim, raw } = await setup({ pacing: "strict", timeScale: 20 }) // identical window: 750 ms
      const a = small(STOCKS[0]!, 0)
      const b = small(STOCKS[0]!, 1)
      expect(summary(await fire(raw, [a, a, b]))).toEqual(["bars:60", "paced", "bars:60"])
      expect(sim.stats().pacingViolations).toBe(1)
      await sleep(15_000 / 20 + 150)
      expect(summary(await fire(raw, [a]))).toEqual(["bars:60"])
      // Identity includes the tick type, bar size and RTH flag: each variation is a different request.
      expect(
        summary(
          await fire(raw, [{ ...a, whatToShow: "MIDPOINT" }, { ...a, useRTH: false }, { ...a, barSize: "15 secs" }])
        )
      ).toEqual([
        "bars:60",
        "bars:60", // 10:30–11:00 lies inside regular hours either way
        "bars:120"
      ])
      expect(sim.stats().pacingViolations).toBe(1)
      expect(codes(raw.errors)).not.toContain(505)
    }
  )

  it("five requests for one contract+exchange+tick type within 2 s pass, the sixth fails", async () => {
    const { sim, raw } = await setup({ pacing: "strict", timeScale: 5 }) // burst window: 400 ms
    const aapl = STOCKS[0]!
    const burst = [0, 1, 2, 3, 4, 5].map((m) => small(aapl, m))
    expect(summary(await fire(raw, burst))).toEqual(["bars:60", "bars:60", "bars:60", "bars:60", "bars:60", "paced"])
    expect(sim.stats().pacingViolations).toBe(1)
    // Another tick type or another exchange is another key.
    expect(summary(await fire(raw, [small(aapl, 6, "MIDPOINT"), small({ ...aapl, exchange: "NASDAQ" }, 7)]))).toEqual([
      "bars:60",
      "bars:60"
    ])
    await sleep(2_000 / 5 + 150)
    expect(summary(await fire(raw, [small(aapl, 8)]))).toEqual(["bars:60"])
    expect(sim.stats().pacingViolations).toBe(1)
    expect(sim.stats().requests.historical).toBe(9)
  })

  it("60 requests in the 10-minute window pass, the 61st fails, and after the window it passes", async () => {
    const { sim, raw } = await setup({ pacing: "strict", timeScale: 300 }) // long window: 2 s
    // 36 contract+tick keys, at most two requests each: no burst or identical rule applies.
    const keys = STOCKS.flatMap((c) => ["TRADES", "MIDPOINT", "BID", "ASK"].map((w) => [c, w] as const))
    const sixty = Array.from({ length: 60 }, (_, i) => small(keys[i % keys.length]![0], i, keys[i % keys.length]![1]))
    const first = await fire(raw, [...sixty, small(STOCKS[8]!, 100, "TRADES")])
    expect(summary(first.slice(0, 60)).every((s) => s === "bars:60")).toBe(true)
    expect(summary(first.slice(60))).toEqual(["paced"])
    expect(sim.stats().pacingViolations).toBe(1)
    await sleep(LONG_WINDOW_MS / 300 + 300)
    expect(summary(await fire(raw, [small(STOCKS[8]!, 101, "TRADES")]))).toEqual(["bars:60"])
    expect(sim.stats().pacingViolations).toBe(1)
  })

  it("BID_ASK counts twice: after 30 BID_ASK requests even a TRADES request is the 61st", async () => {
    const { sim, raw } = await setup({ pacing: "strict", timeScale: 300 })
    const contracts = [...STOCKS, ...FOREX] // 17 keys, at most two BID_ASK each (weight 4 < 6)
    const thirty = Array.from({ length: 30 }, (_, i) => small(contracts[i % contracts.length]!, i, "BID_ASK"))
    const os = await fire(raw, [...thirty, small(STOCKS[1]!, 200, "TRADES")])
    expect(summary(os.slice(0, 30)).every((s) => s === "bars:60")).toBe(true)
    expect(summary(os.slice(30))).toEqual(["paced"])
    expect(sim.stats().pacingViolations).toBe(1)
  })

  it("three BID_ASK requests for one key within 2 s: the third reaches six", async () => {
    const { sim, raw } = await setup({ pacing: "strict", timeScale: 5 })
    const os = await fire(raw, [0, 1, 2].map((m) => small(STOCKS[0]!, m, "BID_ASK")))
    expect(summary(os)).toEqual(["bars:60", "bars:60", "paced"])
    expect(sim.stats().pacingViolations).toBe(1)
  })
})

describe("pacing modes", () => {
  it("off: nothing is ever paced", async () => {
    const { sim, raw } = await setup({ pacing: "off", timeScale: 50 })
    const same = small(STOCKS[0]!, 0)
    const os = await fire(raw, Array.from({ length: 70 }, () => same))
    expect(summary(os).filter((s) => s !== "bars:60")).toEqual([])
    expect(os).toHaveLength(70)
    expect(sim.stats().pacingViolations).toBe(0)
    expect(sim.stats().requests.historical).toBe(70)
  })

  const minuteBars: HistArgs = {
    contract: STOCKS[0]!,
    end: "20240305 16:00:00 US/Eastern",
    duration: "1 D",
    barSize: "1 min"
  }

  it("strict: one-minute bars are never paced", async () => {
    const { sim, raw } = await setup({ pacing: "strict", timeScale: 50 })
    const os = await fire(raw, Array.from({ length: 8 }, () => minuteBars))
    expect(summary(os)).toEqual(Array.from({ length: 8 }, () => "bars:390"))
    expect(sim.stats().pacingViolations).toBe(0)
  })

  it("all: one-minute bars are paced too", async () => {
    const { sim, raw } = await setup({ pacing: "all", timeScale: 10 })
    const os = await fire(raw, [minuteBars, minuteBars, { ...minuteBars, end: "20240304 16:00:00 US/Eastern" }])
    expect(summary(os)).toEqual(["bars:390", "paced", "bars:390"])
    expect(sim.stats().pacingViolations).toBe(1)
  })

  it("configure() switches the mode at run time", async () => {
    const { sim, raw } = await setup({ pacing: "off", timeScale: 10 })
    expect(summary(await fire(raw, [minuteBars, minuteBars]))).toEqual(["bars:390", "bars:390"])
    sim.configure({ pacing: "all" })
    expect(summary(await fire(raw, [minuteBars, minuteBars]))).toEqual(["bars:390", "paced"])
    expect(sim.stats().pacingViolations).toBe(1)
  })
})
