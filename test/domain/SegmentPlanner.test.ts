/** Segment planning: legal requests that fetch exactly the missing bars, with the fewest requests. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expectedBars, expectedBarTimes, hoursFor, type ScheduledBar } from "../../src/domain/BarSchedule.ts"
import { CALENDAR_IDS, calendarFor, type CalendarId } from "../../src/domain/calendar/index.ts"
import { missingIntervals } from "../../src/domain/GapAnalysis.ts"
import { formatIbUtc, parseBarSize, parseDuration, stepAllowed } from "../../src/domain/IbHistoricalRules.ts"
import { durationLimits, planSegments, type Segment } from "../../src/domain/SegmentPlanner.ts"
import { TIMEFRAMES, timeframeOf, type Timeframe } from "../../src/domain/Timeframe.ts"
import type { Instrument } from "../../src/sim/instruments.ts"
import {
  BY_CALENDAR,
  coversLabels,
  dropSimPriorMonth,
  headOf,
  minimumRequests,
  ny,
  runsAgainstSchedule,
  simSegmentLabels,
  spot
} from "./planSupport.ts"

const AAPL = spot("AAPL")
const h1 = timeframeOf("1h")
const m1 = timeframeOf("1m")

/** The union of what the simulator answers for the plan, ascending. */
const simUnion = (segs: ReadonlyArray<Segment>, tf: Timeframe, useRTH: boolean, now: number, inst = AAPL) =>
  segs.flatMap((s) => simSegmentLabels(inst, tf, useRTH, s, now)).sort((a, b) => a - b)

describe("duration limits from the step table", () => {
  it("gives the largest legal windows per bar size", () => {
    const l = (id: Parameters<typeof timeframeOf>[0]) => durationLimits(timeframeOf(id).ibBarSize)
    expect(l("1s")).toEqual({ minSessions: 0, maxSessions: 0, minSeconds: 1, maxSeconds: 1800 })
    expect(l("30s").maxSeconds).toBe(28_800)
    expect(l("1m")).toEqual({ minSessions: 1, maxSessions: 1, minSeconds: 1, maxSeconds: 86_400 })
    expect(l("5m").maxSessions).toBe(7)
    expect(l("1h")).toEqual({ minSessions: 1, maxSessions: 30, minSeconds: 1801, maxSeconds: 86_400 })
    expect(l("4h").minSeconds).toBe(14_401)
    expect(l("1d").maxSessions).toBe(365)
    expect(l("1w").minSessions).toBe(3)
    expect(l("1M").minSessions).toBe(8)
  })
})

describe("the Monday after Friday's last bar", () => {
  const friday = expectedBarTimes("us-equity", h1, "regular", ny("2024-03-04T00:00"), ny("2024-03-09T00:00"))
  const plan = (now: number) => {
    const missing = missingIntervals({
      stored: friday,
      calendarId: "us-equity",
      timeframe: h1,
      hours: "regular",
      from: friday[friday.length - 1]!,
      to: now,
      now
    })
    return { missing, segs: planSegments({ calendarId: "us-equity", timeframe: h1, useRTH: true, missing, now }) }
  }

  it("at 11:00 fetches Monday 09:30 and 10:00 with one request, nothing on the weekend", () => {
    const now = ny("2024-03-11T11:00")
    const { missing, segs } = plan(now)
    expect(missing).toEqual([[ny("2024-03-11T09:30"), ny("2024-03-11T11:00")]])
    expect(segs).toEqual([
      {
        endMs: now,
        end: "20240311-15:00:00",
        duration: "5400 S",
        barSize: "1 hour",
        covers: [ny("2024-03-11T09:30"), now],
        bars: 2
      }
    ])
    expect(simUnion(segs, h1, true, now)).toEqual([ny("2024-03-11T09:30"), ny("2024-03-11T10:00")])
  })

  it("at 10:45 the 10:00 bar is still forming: only 09:30, as 1 D (1800 S is illegal for 1 hour)", () => {
    const now = ny("2024-03-11T10:45")
    const { segs } = plan(now)
    expect(segs.map((s) => [s.duration, s.end])).toEqual([["1 D", "20240311-14:00:00"]])
    expect(simUnion(segs, h1, true, now)).toEqual([ny("2024-03-11T09:30")])
  })

  it("on Sunday there is nothing to fetch", () => {
    expect(plan(ny("2024-03-10T12:00")).segs).toEqual([])
  })
})

describe("ranges of many sessions", () => {
  it("a 30-day 1h range fetches all 30 days (22 sessions in one 22 D request, not KTRDR's 4 W)", () => {
    const from = Date.parse("2024-04-01T00:00:00Z")
    const to = Date.parse("2024-05-01T00:00:00Z")
    const now = Date.parse("2024-06-01T00:00:00Z")
    const segs = planSegments({ calendarId: "us-equity", timeframe: h1, useRTH: true, missing: [[from, to]], now })
    expect(segs.map((s) => s.duration)).toEqual(["22 D"])
    const expected = expectedBarTimes("us-equity", h1, "regular", from, to, { now })
    expect(expected).toHaveLength(22 * 7)
    expect(simUnion(segs, h1, true, now)).toEqual(expected)
  })

  it("splits a 60-session 1h range into 30 D windows, and starts mid-session with clock seconds", () => {
    const from = ny("2024-01-02T12:00")
    const to = ny("2024-04-01T00:00")
    const now = Date.parse("2024-06-01T00:00:00Z")
    const segs = planSegments({ calendarId: "us-equity", timeframe: h1, useRTH: true, missing: [[from, to]], now })
    expect(segs.map((s) => s.duration)).toEqual(["14400 S", "30 D", "30 D"])
    expect(simUnion(segs, h1, true, now)).toEqual(expectedBarTimes("us-equity", h1, "regular", from, to, { now }))
  })
})

describe("holidays and early closes", () => {
  it("1m over Thanksgiving week: one session per request, none on Thursday, Friday ends 13:00", () => {
    const from = ny("2024-11-25T00:00")
    const now = ny("2024-12-02T00:00")
    const segs = planSegments({ calendarId: "us-equity", timeframe: m1, useRTH: true, missing: [[from, now]], now })
    expect(segs.map((s) => [s.duration, s.end])).toEqual([
      ["1 D", "20241125-21:00:00"],
      ["1 D", "20241126-21:00:00"],
      ["1 D", "20241127-21:00:00"],
      ["1 D", "20241129-18:00:00"]
    ])
    expect(simUnion(segs, m1, true, now)).toEqual(expectedBarTimes("us-equity", m1, "regular", from, now, { now }))
  })

  it("an interval with no trading time plans nothing", () => {
    const now = Date.parse("2025-01-01T00:00:00Z")
    expect(
      planSegments({
        calendarId: "us-equity",
        timeframe: m1,
        useRTH: true,
        missing: [[ny("2024-11-28T00:00"), ny("2024-11-29T00:00")]],
        now
      })
    ).toEqual([])
    expect(
      planSegments({
        calendarId: "forex",
        timeframe: h1,
        useRTH: false,
        missing: [[ny("2024-01-06T00:00"), ny("2024-01-07T17:00")]],
        now
      })
    ).toEqual([])
  })

  it("clamps to the head timestamp", () => {
    const head = ny("2024-03-06T09:30")
    const now = ny("2024-04-01T00:00")
    const segs = planSegments({
      calendarId: "us-equity",
      timeframe: timeframeOf("1d"),
      useRTH: true,
      missing: [[ny("2024-01-01T00:00"), ny("2024-03-09T00:00")]],
      headTimestamp: head,
      now
    })
    expect(segs.map((s) => [s.duration, s.covers[0]])).toEqual([["3 D", head]])
  })
})

describe("forex around the weekend", () => {
  it("Friday's last bar and Sunday evening's bars, without Saturday", () => {
    const eur = BY_CALENDAR.forex
    const from = ny("2024-01-05T16:00")
    const now = ny("2024-01-08T01:00")
    const segs = planSegments({ calendarId: "forex", timeframe: h1, useRTH: false, missing: [[from, now]], now })
    expect(segs.map((s) => [s.duration, s.end])).toEqual([["3600 S", "20240105-22:00:00"], [
      "27900 S",
      "20240108-06:00:00"
    ]])
    const got = simUnion(segs, h1, false, now, eur)
    expect(got).toEqual(expectedBarTimes("forex", h1, "extended", from, now, { now }))
    expect(got[1]).toBe(ny("2024-01-07T17:15"))
  })
})

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const DAY = 86_400_000
const FIXED_NOW = Date.parse("2025-07-01T00:00:00Z")
const spanFor = (tf: Timeframe): number =>
  tf.ms < 60_000
    ? DAY / 8
    : tf.id === "1m"
    ? 5 * DAY
    : tf.ms < 1_800_000
    ? 20 * DAY
    : tf.intraday
    ? 90 * DAY
    : tf.kind === "day"
    ? 900 * DAY
    : 4000 * DAY

const dedupe = (bars: ReadonlyArray<ScheduledBar>) => {
  const seen = new Map<number, ScheduledBar>()
  for (const b of bars) seen.set(b.time, b)
  return [...seen.values()].sort((a, b) => a.time - b.time)
}

/** Uniform fractions: fc.double favours 0, 1 and tiny values, which mostly make empty intervals. */
const frac = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000)

interface Case {
  readonly calendarId: CalendarId
  readonly inst: Instrument
  readonly tf: Timeframe
  readonly useRTH: boolean
  readonly missing: ReadonlyArray<readonly [number, number]>
  readonly now: number
}

/**
 * Plans a case and checks every property: legal durations, ascending non-overlapping windows ending
 * by `now`, every missing bar fetched exactly once, the simulator returning exactly each window's
 * scheduled bars, and the request count equal to the independent minimum. Returns the bars fetched
 * beyond the missing ones (only the documented fallbacks re-fetch stored bars).
 */
const checkPlan = ({ calendarId, inst, tf, useRTH, missing, now }: Case) => {
  const hours = hoursFor(useRTH)
  const head = headOf(inst, useRTH)
  const segs = planSegments({ calendarId, timeframe: tf, useRTH, missing, headTimestamp: head, now })
  const bar = parseBarSize(tf.ibBarSize)!
  let prevEnd = -Infinity
  for (const s of segs) {
    const d = parseDuration(s.duration)!
    expect(stepAllowed(d, bar)).toBe(true)
    expect(d.unit === "S" ? d.n <= 86_400 : d.unit === "D" && d.n <= 365).toBe(true)
    expect(s.endMs).toBeLessThanOrEqual(now)
    expect(s.end).toBe(formatIbUtc(s.endMs))
    expect(s.barSize).toBe(tf.ibBarSize)
    expect(s.covers[1]).toBe(s.endMs)
    expect(s.covers[0]).toBeGreaterThanOrEqual(prevEnd)
    prevEnd = s.endMs
  }
  const wanted = dedupe(
    missing.flatMap(([a, b]) =>
      expectedBars(calendarId, tf, hours, Math.max(a, head), Math.min(b, now), { headMs: head, now })
    )
  )
  const covered = segs.map((s) => coversLabels(calendarId, tf, useRTH, s, head))
  const all = covered.flat()
  expect(new Set(all).size).toBe(all.length)
  const got = new Set(all)
  for (const b of wanted) expect(got.has(b.time)).toBe(true)
  segs.forEach((s, k) => {
    expect(s.bars).toBe(covered[k]!.length)
    expect(dropSimPriorMonth(tf, simSegmentLabels(inst, tf, useRTH, s, now), covered[k]!)).toEqual(covered[k])
  })
  const cal = calendarFor(calendarId)
  const runs = runsAgainstSchedule(calendarId, tf, useRTH, wanted, head)
  expect(segs.length).toBe(minimumRequests(tf, runs, (day) => cal.session(day, hours)!.open))
  return { segs, extra: all.length - wanted.length }
}

describe("fallbacks for windows the table cannot express exactly", () => {
  const h4 = timeframeOf("4h")
  const aapl = { calendarId: "us-equity" as const, inst: AAPL, tf: h4, useRTH: true }
  // 2024-11-29 closes 13:00: its 12:00 4h bar lasts one hour, and 4-hour bars need more than 14400 S.
  const lone12 = [[ny("2024-11-29T12:00"), ny("2024-11-29T13:00")]] as const

  it("a lone short 4h bar grows into the closed time after it", () => {
    const { segs, extra } = checkPlan({ ...aapl, missing: lone12, now: ny("2024-11-29T17:00") })
    expect(segs.map((s) => [s.duration, s.covers])).toEqual([["14401 S", [
      ny("2024-11-29T12:00"),
      ny("2024-11-29T16:00:01")
    ]]])
    expect(extra).toBe(0)
  })

  it("right after the close it re-fetches the session with 1 D", () => {
    const { segs, extra } = checkPlan({ ...aapl, missing: lone12, now: ny("2024-11-29T13:10") })
    expect(segs.map((s) => s.duration)).toEqual(["1 D"])
    expect(extra).toBe(1)
  })

  it("short weekly and monthly bars at the head reach back before it, where IB has nothing", () => {
    const vix = spot("VIX")
    const now = Date.parse("2004-06-01T00:00:00Z")
    const week = checkPlan({
      calendarId: "us-index",
      inst: vix,
      tf: timeframeOf("1w"),
      useRTH: true,
      missing: [[0, Date.parse("2004-03-27T00:00:00Z")]],
      now
    })
    expect(week.segs.map((s) => s.duration)).toEqual(["3 D"])
    expect(week.extra).toBe(0)
    const month = checkPlan({
      calendarId: "us-index",
      inst: vix,
      tf: timeframeOf("1M"),
      useRTH: true,
      missing: [[0, Date.parse("2004-04-01T00:00:00Z")]],
      now
    })
    expect(month.segs.map((s) => s.duration)).toEqual(["8 D"])
  })

  it("the one-session week of 2001-09-10 borrows weeks from the block before it, or re-fetches one stored week", () => {
    const w1 = timeframeOf("1w")
    const now = Date.parse("2002-01-01T00:00:00Z")
    const end = Date.parse("2001-09-15T00:00:00Z")
    const lone = checkPlan({
      calendarId: "us-equity",
      inst: AAPL,
      tf: w1,
      useRTH: true,
      missing: [[Date.parse("2001-09-10T00:00:00Z"), end]],
      now
    })
    expect(lone.segs.map((s) => s.duration)).toEqual(["3 D"])
    expect(lone.extra).toBe(1)
    for (let weeks = 70; weeks <= 80; weeks++) {
      const { extra } = checkPlan({
        calendarId: "us-equity",
        inst: AAPL,
        tf: w1,
        useRTH: true,
        missing: [[end - weeks * 7 * DAY, end]],
        now
      })
      expect(extra).toBe(0)
    }
    // 77 weeks: greedy would leave the lone one-session week last; it takes the week before it along.
    const borrowed = checkPlan({
      calendarId: "us-equity",
      inst: AAPL,
      tf: w1,
      useRTH: true,
      missing: [[end - 77 * 7 * DAY, end]],
      now
    })
    expect(borrowed.segs.map((s) => s.duration)).toEqual(["363 D", "5 D"])
  })
})

describe("planner properties", () => {
  it("legal requests, exact cover of every missing bar once, minimum count; the simulator agrees", () => {
    const stats = { cases: 0, segments: 0, refetched: 0 }
    const arb = fc.record({
      calendarId: fc.constantFrom(...CALENDAR_IDS),
      tf: fc.constantFrom(...TIMEFRAMES),
      useRTH: fc.boolean(),
      endFrac: frac,
      cuts: fc.array(fc.tuple(frac, frac), { minLength: 1, maxLength: 3 }),
      nowMode: fc.constantFrom("after", "after", "inside"),
      nowFrac: frac,
      headFrac: fc.option(frac.map((x) => x / 2), { nil: undefined, freq: 4 })
    })
    fc.assert(
      fc.property(arb, ({ calendarId, tf, useRTH, endFrac, cuts, nowMode, nowFrac, headFrac }) => {
        const hours = hoursFor(useRTH)
        const span = spanFor(tf)
        const end = Math.floor((FIXED_NOW - 10 * DAY - endFrac * 400 * DAY) / 60_000) * 60_000
        const start = end - span
        let inst = BY_CALENDAR[calendarId]
        if (headFrac !== undefined) {
          const s = calendarFor(calendarId).nextSession(start + headFrac * span, hours)
          if (s && s.tradingDay > inst.headDay) inst = { ...inst, headDay: s.tradingDay }
        }
        const now = nowMode === "after" ? end + Math.floor(nowFrac * 3 * DAY) : start + Math.floor(nowFrac * span)
        const missing = cuts.map((
          [x, y]
        ): readonly [number, number] => [start + Math.min(x, y) * span, start + Math.max(x, y) * span])
        const { segs, extra } = checkPlan({ calendarId, inst, tf, useRTH, missing, now })
        // Only the documented fallbacks re-fetch stored bars: a too-short 4h window, weekly/monthly N D minimums.
        if (extra > 0) expect(["4h", "1w", "1M"]).toContain(tf.id)
        stats.refetched += extra > 0 ? 1 : 0
        stats.cases += segs.length > 0 ? 1 : 0
        stats.segments += segs.length
      }),
      { numRuns: 250 }
    )
    // The generator must actually exercise the planner.
    expect(stats.cases).toBeGreaterThan(150)
  }, 600_000)
})
