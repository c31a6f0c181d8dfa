/** The expected-bar schedule: unit cases on real dates, and exact agreement with the simulator's bars. */
import fc from "fast-check"
import { DateTime } from "luxon"
import { describe, expect, it } from "vitest"
import {
  barAt,
  barBefore,
  barFrom,
  dayStartMs,
  expectedBars,
  expectedBarTimes,
  periodKey,
  sessionOfBarTime
} from "../../src/domain/BarSchedule.ts"
import { calendarFor, type Hours } from "../../src/domain/calendar/index.ts"
import {
  parseBarSize,
  parseDuration,
  STEP_TABLE,
  stepAllowed,
  type Duration
} from "../../src/domain/IbHistoricalRules.ts"
import { TIMEFRAMES, timeframeOf } from "../../src/domain/Timeframe.ts"
import { generateBars, headTimestampMs, windowStart } from "../../src/sim/historicalBars.ts"
import type { Instrument } from "../../src/sim/instruments.ts"
import { BY_CALENDAR, dropSimPriorMonth, labelsOf, spot } from "./planSupport.ts"

const ny = (iso: string) => DateTime.fromISO(iso, { zone: "America/New_York" }).toMillis()
const hhmm = (ms: number, zone = "America/New_York") => DateTime.fromMillis(ms, { zone }).toFormat("HH:mm")
const h1 = timeframeOf("1h")

describe("intraday buckets", () => {
  it("RTH hour bars start at 09:30, then on the hour", () => {
    const bars = expectedBars("us-equity", h1, "regular", ny("2024-03-05T00:00"), ny("2024-03-06T00:00"))
    expect(bars.map((b) => hhmm(b.time))).toEqual(["09:30", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00"])
    expect(hhmm(bars[0]!.end)).toBe("10:00")
    expect(hhmm(bars[6]!.end)).toBe("16:00")
  })

  it("an early close (2024-11-29, 13:00) ends the day's bars; Thanksgiving has none", () => {
    const bars = expectedBars("us-equity", h1, "regular", ny("2024-11-28T00:00"), ny("2024-11-30T00:00"))
    expect(bars.map((b) => `${b.tradingDay} ${hhmm(b.time)}`)).toEqual([
      "2024-11-29 09:30",
      "2024-11-29 10:00",
      "2024-11-29 11:00",
      "2024-11-29 12:00"
    ])
    expect(hhmm(bars[3]!.end)).toBe("13:00")
  })

  it("forex opens Sunday 17:15 New York; that bar belongs to Monday's session", () => {
    const bars = expectedBars("forex", h1, "extended", ny("2024-01-05T16:00"), ny("2024-01-07T19:00"))
    expect(bars.map((b) => `${b.tradingDay} ${hhmm(b.time)}`)).toEqual([
      "2024-01-05 16:00",
      "2024-01-08 17:15",
      "2024-01-08 18:00"
    ])
  })

  it("4h buckets follow the wall clock across a DST change", () => {
    const before = expectedBarTimes(
      "us-equity",
      timeframeOf("4h"),
      "extended",
      ny("2024-03-08T00:00"),
      ny("2024-03-09T00:00")
    )
    const after = expectedBarTimes(
      "us-equity",
      timeframeOf("4h"),
      "extended",
      ny("2024-03-11T00:00"),
      ny("2024-03-12T00:00")
    )
    expect(before.map((t) => hhmm(t))).toEqual(["04:00", "08:00", "12:00", "16:00"])
    expect(after.map((t) => hhmm(t))).toEqual(["04:00", "08:00", "12:00", "16:00"])
  })

  it("a bar is expected only once it has ended when `now` is given", () => {
    const opts = { now: ny("2024-03-05T11:00") }
    expect(expectedBarTimes("us-equity", h1, "regular", ny("2024-03-05T00:00"), opts.now, opts).map((t) => hhmm(t)))
      .toEqual(["09:30", "10:00"])
    expect(
      expectedBarTimes("us-equity", h1, "regular", ny("2024-03-05T00:00"), ny("2024-03-05T10:59"), opts).map((t) =>
        hhmm(t)
      )
    ).toEqual(["09:30", "10:00"])
    expect(
      expectedBarTimes("us-equity", h1, "regular", ny("2024-03-05T00:00"), ny("2024-03-06T00:00"), {
        now: ny("2024-03-05T10:59")
      })
    ).toHaveLength(1)
  })

  it("no bars before the head timestamp", () => {
    const head = ny("2024-03-05T09:30")
    const times = expectedBarTimes(
      "us-equity",
      timeframeOf("1d"),
      "regular",
      ny("2024-03-01T00:00"),
      ny("2024-03-07T00:00"),
      { headMs: head }
    )
    expect(times).toEqual([dayStartMs("2024-03-05"), dayStartMs("2024-03-06")])
  })
})

describe("daily, weekly and monthly bars", () => {
  it("daily bars are stored at 00:00Z of the trading day and skip holidays", () => {
    const times = expectedBarTimes(
      "us-equity",
      timeframeOf("1d"),
      "regular",
      Date.parse("2024-03-27T00:00:00Z"),
      Date.parse("2024-04-03T00:00:00Z")
    )
    expect(times.map((t) => new Date(t).toISOString().slice(0, 10))).toEqual([
      "2024-03-27",
      "2024-03-28",
      "2024-04-01",
      "2024-04-02"
    ])
  })

  it("a weekly bar after a Monday holiday is labelled Tuesday and spans four sessions", () => {
    const bars = expectedBars(
      "us-equity",
      timeframeOf("1w"),
      "regular",
      Date.parse("2024-01-16T00:00:00Z"),
      Date.parse("2024-01-17T00:00:00Z")
    )
    expect(bars).toHaveLength(1)
    expect(bars[0]!.tradingDay).toBe("2024-01-16")
    expect(bars[0]!.sessions).toBe(4)
  })

  it("a monthly bar is labelled by the month's first trading day", () => {
    const bars = expectedBars(
      "us-equity",
      timeframeOf("1M"),
      "regular",
      Date.parse("2024-09-15T00:00:00Z"),
      Date.parse("2024-10-15T00:00:00Z")
    )
    expect(bars.map((b) => b.tradingDay)).toEqual(["2024-09-03", "2024-10-01"])
    expect(periodKey("2024-09-03", "week")).toBe("2024-09-02")
  })
})

describe("helpers", () => {
  it("map a stored time to its session and bar, and step to neighbours", () => {
    const t = ny("2024-03-05T10:00")
    expect(sessionOfBarTime("us-equity", h1, "regular", t)?.tradingDay).toBe("2024-03-05")
    expect(barAt("us-equity", h1, "regular", t)?.end).toBe(ny("2024-03-05T11:00"))
    expect(barAt("us-equity", h1, "regular", ny("2024-03-05T10:30"))).toBeUndefined()
    expect(barBefore("us-equity", h1, "regular", ny("2024-03-04T09:30"))?.time).toBe(ny("2024-03-01T15:00"))
    expect(barFrom("us-equity", h1, "regular", ny("2024-03-01T16:00"))?.time).toBe(ny("2024-03-04T09:30"))
    expect(sessionOfBarTime("us-equity", timeframeOf("1d"), "regular", dayStartMs("2024-03-05"))?.open).toBe(
      ny("2024-03-05T09:30")
    )
  })
})

// ---------------------------------------------------------------------------------------------
// Agreement with the simulator
// ---------------------------------------------------------------------------------------------

const INSTRUMENTS: ReadonlyArray<Instrument> = [
  ...Object.values(BY_CALENDAR),
  ...["IBM", "SPY", "USD", "VIX"].map(spot)
]

/** Every legal (unit, max n) for a bar size, within bounds that keep one run cheap. */
const durationsFor = (barSeconds: number): ReadonlyArray<Duration> => {
  const bar = { ib: "", seconds: barSeconds, kind: "intraday" as const }
  const caps: Record<string, number> = { S: 86_400, D: barSeconds < 3600 ? 10 : 400, W: 60, M: 14, Y: 3 }
  const out: Array<Duration> = []
  for (const [unit, cap] of Object.entries(caps)) {
    const candidates = new Set<number>([
      1,
      2,
      3,
      5,
      7,
      8,
      13,
      30,
      31,
      52,
      120,
      365,
      400,
      3600,
      14_400,
      86_400,
      ...STEP_TABLE.map(([s]) => s)
    ])
    for (const n of candidates) {
      const d = parseDuration(`${n} ${unit}`)
      if (d && n <= cap && stepAllowed(d, bar) && (barSeconds >= 60 || d.seconds <= 3600)) out.push(d)
    }
  }
  return out
}

describe("agreement with the simulator's generateBars", () => {
  it("expectedBarTimes equals the simulator's labels for random windows, instruments and bar sizes", () => {
    let nonEmpty = 0
    const arb = fc.record({
      inst: fc.constantFrom(...INSTRUMENTS),
      tf: fc.constantFrom(...TIMEFRAMES),
      useRTH: fc.boolean(),
      baseMs: fc.integer({
        min: Date.parse("2024-01-02T00:00:00Z") / 1000,
        max: Date.parse("2025-06-30T00:00:00Z") / 1000
      }).map((s) => s * 1000),
      // Most ends fall inside a session (a random instant is mostly night or weekend: short windows would be empty).
      inSession: fc.option(fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000), { nil: undefined, freq: 4 }),
      pick: fc.nat(),
      nowCut: fc.option(fc.integer({ min: 0, max: 6 * 3600 }), { nil: undefined, freq: 3 })
    })
    fc.assert(
      fc.property(arb, ({ inst, tf, useRTH, baseMs, inSession, pick, nowCut }) => {
        const s = calendarFor(inst.calendar).nextSession(baseMs, useRTH ? "regular" : "extended")
        const endMs = inSession === undefined || !s
          ? baseMs
          : Math.floor((s.open + inSession * (s.close - s.open)) / 1000) * 1000
        const bar = parseBarSize(tf.ibBarSize)!
        const options = durationsFor(bar.seconds)
        const duration = options[pick % options.length]!
        const hours: Hours = useRTH ? "regular" : "extended"
        const cal = calendarFor(inst.calendar)
        const nowMs = nowCut === undefined ? Date.now() : endMs - nowCut * 1000
        const answer = generateBars({ inst, endMs, nowMs, duration, bar, useRTH, whatToShow: inst.whatToShow[0]! })
        const head = headTimestampMs(inst, useRTH)
        const from = Math.max(windowStart(cal, endMs, duration, hours), head)
        const limit = Math.min(endMs, nowMs, inst.lastDataMs ?? Infinity)
        const expected = expectedBarTimes(inst.calendar, tf, hours, from, limit, { headMs: head })
        expect(answer.fromMs).toBe(from)
        expect(dropSimPriorMonth(tf, labelsOf(answer.bars), expected)).toEqual(expected)
        nonEmpty += expected.length > 0 ? 1 : 0
      }),
      { numRuns: 400 }
    )
    expect(nonEmpty).toBeGreaterThan(200)
  }, 600_000)
})
