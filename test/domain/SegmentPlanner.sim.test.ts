/**
 * Every request the planner produces is accepted by the simulated gateway over real TCP (the unmodified
 * @stoqey/ib IBApi), and answers with exactly the scheduled bars of the segment's `covers` window.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { SecType, type Contract } from "@stoqey/ib"
import { CALENDAR_IDS, type CalendarId } from "../../src/domain/calendar/index.ts"
import { planSegments, type Segment } from "../../src/domain/SegmentPlanner.ts"
import { TIMEFRAMES, type Timeframe } from "../../src/domain/Timeframe.ts"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { connectRaw, outcome, reqHist, Resources, type RawClient } from "../sim/support.ts"
import { BY_CALENDAR, coversLabels, dropSimPriorMonth, headOf } from "./planSupport.ts"

const DAY = 86_400_000
/** The gateway's clock is pinned so the futures listing (ESZ5) and "now" are reproducible. */
const NOW = Date.parse("2025-07-01T00:00:00Z")

const CONTRACTS: Record<CalendarId, { readonly contract: Contract; readonly whatToShow: string }> = {
  "us-equity": {
    contract: { symbol: "AAPL", secType: SecType.STK, exchange: "SMART", currency: "USD" },
    whatToShow: "TRADES"
  },
  "us-index": {
    contract: { symbol: "SPX", secType: SecType.IND, exchange: "CBOE", currency: "USD" },
    whatToShow: "TRADES"
  },
  forex: {
    contract: { symbol: "EUR", secType: SecType.CASH, exchange: "IDEALPRO", currency: "USD" },
    whatToShow: "MIDPOINT"
  },
  "cme-equity-futures": {
    contract: {
      symbol: "ES",
      secType: SecType.FUT,
      exchange: "CME",
      currency: "USD",
      lastTradeDateOrContractMonth: "202512"
    },
    whatToShow: "TRADES"
  }
}

const spanFor = (tf: Timeframe): number =>
  tf.ms < 60_000
    ? DAY / 4
    : tf.id === "1m"
    ? 4 * DAY
    : tf.ms < 1_800_000
    ? 20 * DAY
    : tf.intraday
    ? 70 * DAY
    : tf.kind === "day"
    ? 800 * DAY
    : 3000 * DAY

interface Case {
  readonly calendarId: CalendarId
  readonly tf: Timeframe
  readonly useRTH: boolean
  readonly missing: ReadonlyArray<readonly [number, number]>
}

/** One random range per (calendar, timeframe, RTH/ETH), reproducible. */
const cases = (): ReadonlyArray<Case> => {
  const frac = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000)
  const shapes = fc.sample(fc.tuple(frac, fc.array(fc.tuple(frac, frac), { minLength: 1, maxLength: 2 })), {
    numRuns: 112,
    seed: 20250701
  })
  const out: Array<Case> = []
  let k = 0
  for (const calendarId of CALENDAR_IDS) {
    for (const tf of TIMEFRAMES) {
      for (const useRTH of [true, false]) {
        const [endFrac, cuts] = shapes[k++]!
        const span = spanFor(tf)
        const end = NOW - DAY - Math.floor(endFrac * 300) * DAY
        const start = end - span
        const missing = cuts.map((
          [x, y]
        ): readonly [number, number] => [start + Math.min(x, y) * span, start + Math.max(x, y) * span])
        out.push({ calendarId, tf, useRTH, missing })
      }
    }
  }
  return out
}

/** formatDate 2: epoch seconds for intraday bars; daily and longer bars are always `yyyyMMdd`. */
const barTime = (s: string): number =>
  /^\d{8}$/.test(s)
    ? Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)))
    : Number(s) * 1000

const res = new Resources()
let sim: GatewaySimulator
let raw: RawClient
let reqId = 1000

beforeAll(async () => {
  sim = await res.sim({ pacing: "off", clock: () => NOW })
  raw = await connectRaw(res, sim.port, 7)
})
afterAll(() => res.closeAll())

const send = async (c: Case, seg: Segment) => {
  const id = reqId++
  const { contract, whatToShow } = CONTRACTS[c.calendarId]
  reqHist(raw, id, {
    contract,
    end: seg.end,
    duration: seg.duration,
    barSize: seg.barSize,
    whatToShow,
    useRTH: c.useRTH,
    formatDate: 2
  })
  const o = await outcome(raw, id, 20_000)
  return { id, o }
}

describe("planned segments against the simulated gateway", () => {
  it("every request is accepted and returns exactly its window's scheduled bars", async () => {
    let requests = 0
    const shapes = new Set<string>()
    for (const c of cases()) {
      const inst = BY_CALENDAR[c.calendarId]
      const head = headOf(inst, c.useRTH)
      const segs = planSegments({
        calendarId: c.calendarId,
        timeframe: c.tf,
        useRTH: c.useRTH,
        missing: c.missing,
        headTimestamp: head,
        now: NOW
      })
      for (const seg of segs) {
        const where = `${c.calendarId} ${c.tf.id} ${c.useRTH ? "RTH" : "ETH"} ${seg.duration} ${seg.end}`
        const { id, o } = await send(c, seg)
        requests++
        shapes.add(`${seg.duration.split(" ")[1]} ${seg.barSize}`)
        expect(raw.errors.filter((e) => e.reqId === id), where).toEqual([])
        expect(o._tag, where).toBe("bars")
        if (o._tag !== "bars") continue
        const expected = coversLabels(c.calendarId, c.tf, c.useRTH, seg, head)
        const got = o.bars.map((b) => barTime(b.time))
        expect(dropSimPriorMonth(c.tf, got, expected), where).toEqual(expected)
      }
    }
    // The set must exercise both duration units across the bar sizes, and a good number of requests.
    expect(requests).toBeGreaterThan(150)
    expect([...shapes].some((s) => s.startsWith("S"))).toBe(true)
    expect([...shapes].some((s) => s.startsWith("D"))).toBe(true)
  }, 300_000)

  it("the Monday request of the Monday-after-Friday case is answered with 09:30 and 10:00", async () => {
    const monday = Date.parse("2024-03-11T15:00:00Z")
    const segs = planSegments({
      calendarId: "us-equity",
      timeframe: TIMEFRAMES.find((t) => t.id === "1h")!,
      useRTH: true,
      missing: [[Date.parse("2024-03-08T21:00:00Z"), monday]],
      now: monday
    })
    const { o } = await send({
      calendarId: "us-equity",
      tf: TIMEFRAMES.find((t) => t.id === "1h")!,
      useRTH: true,
      missing: []
    }, segs[0]!)
    expect(o._tag === "bars" && o.bars.map((b) => barTime(b.time))).toEqual([
      Date.parse("2024-03-11T13:30:00Z"),
      Date.parse("2024-03-11T14:00:00Z")
    ])
  })
})
