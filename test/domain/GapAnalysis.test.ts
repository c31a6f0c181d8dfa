/** Gap analysis against the real calendars: what is missing, how gaps are classified, what a load fetches. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expectedBars, expectedBarTimes, hoursFor } from "../../src/domain/BarSchedule.ts"
import { CALENDAR_IDS } from "../../src/domain/calendar/index.ts"
import { analyzeGaps, classifyGap, closedSpanClass, missingIntervals } from "../../src/domain/GapAnalysis.ts"
import { TIMEFRAMES, timeframeOf } from "../../src/domain/Timeframe.ts"
import { ny } from "./planSupport.ts"

const h1 = timeframeOf("1h")
const d1 = timeframeOf("1d")
const Z = (iso: string) => Date.parse(iso)
const equity1h = { calendarId: "us-equity" as const, timeframe: h1, hours: "regular" as const }

describe("the Monday after Friday's last bar", () => {
  const stored = expectedBarTimes("us-equity", h1, "regular", ny("2024-03-04T00:00"), ny("2024-03-09T00:00"))

  it("at 11:00: Monday 09:30 and 10:00 are missing (not loaded yet, after the last bar), the weekend is not", () => {
    const now = ny("2024-03-11T11:00")
    const a = analyzeGaps({ ...equity1h, stored, from: ny("2024-03-08T00:00"), to: now, now })
    expect(a.expectedBars).toBe(9)
    expect(a.presentBars).toBe(7)
    expect(a.missingBars).toBe(2)
    expect(a.notLoadedBars).toBe(2)
    // Complete over the stored range: what has not been loaded yet is not a hole in what has.
    expect(a.completenessPct).toBe(100)
    expect(a.missingSessions).toBe(1)
    expect(a.missing).toEqual([[ny("2024-03-11T09:30"), ny("2024-03-11T11:00")]])
    expect(a.gaps.map((g) => [g.classification, g.barsMissing, g.start, g.end])).toEqual([[
      "not_loaded",
      2,
      ny("2024-03-11T09:30"),
      now
    ]])
  })

  it("lists the weekend and nights as expected gaps on request", () => {
    const now = ny("2024-03-11T11:00")
    const a = analyzeGaps({ ...equity1h, stored, from: ny("2024-03-08T09:30"), to: now, now, includeExpected: true })
    expect(a.gaps.map((g) => [g.classification, g.start, g.end])).toEqual([
      ["expected_weekend", ny("2024-03-08T16:00"), ny("2024-03-11T09:30")],
      ["not_loaded", ny("2024-03-11T09:30"), now]
    ])
    expect(a.gaps[0]!.note).toMatch(/^Weekend gap for 1h data/)
  })

  it("on Sunday, and at 09:59 on Monday, nothing is missing yet", () => {
    for (const now of [ny("2024-03-10T12:00"), ny("2024-03-11T09:59")]) {
      expect(missingIntervals({ ...equity1h, stored, from: stored[stored.length - 1]!, to: now, now })).toEqual([])
    }
  })

  it("daily bars: Monday's bar is expected once Monday's session has closed", () => {
    const days = expectedBarTimes("us-equity", d1, "regular", Z("2024-03-04T00:00:00Z"), Z("2024-03-09T00:00:00Z"))
    const input = {
      calendarId: "us-equity" as const,
      timeframe: d1,
      hours: "regular" as const,
      stored: days,
      from: days[days.length - 1]!
    }
    expect(missingIntervals({ ...input, to: ny("2024-03-11T11:00"), now: ny("2024-03-11T11:00") })).toEqual([])
    expect(missingIntervals({ ...input, to: ny("2024-03-11T16:30"), now: ny("2024-03-11T16:30") })).toEqual([[
      ny("2024-03-11T09:30"),
      ny("2024-03-11T16:00")
    ]])
  })
})

describe("forex", () => {
  it("after Friday 16:00, Sunday evening's bars are missing from 17:15 New York", () => {
    const stored = expectedBarTimes("forex", h1, "extended", ny("2024-01-05T00:00"), ny("2024-01-05T17:00"))
    const now = ny("2024-01-07T19:30")
    const m = missingIntervals({
      calendarId: "forex",
      timeframe: h1,
      hours: "extended",
      stored,
      from: stored[stored.length - 1]!,
      to: now,
      now
    })
    expect(m).toEqual([[ny("2024-01-07T17:15"), ny("2024-01-07T19:00")]])
  })

  it("US holidays do not close forex (KTRDR applied them to every symbol); Christmas does", () => {
    expect(classifyGap("forex", h1, "extended", ny("2024-07-04T09:00"), ny("2024-07-04T12:00"))).toBe("unexpected")
    expect(classifyGap("forex", h1, "extended", ny("2024-12-24T17:00"), ny("2024-12-25T17:15"))).toBe(
      "expected_holiday"
    )
    expect(classifyGap("forex", h1, "extended", Z("2024-01-05T22:00:00Z"), Z("2024-01-07T22:00:00Z"))).toBe(
      "expected_weekend"
    )
    expect(classifyGap("forex", h1, "extended", ny("2024-01-09T17:00"), ny("2024-01-09T17:15"))).toBe(
      "expected_trading_hours"
    )
  })
})

describe("classification (KTRDR's examples, on real calendars)", () => {
  it("weekend, holiday, nights, unexpected, market closure", () => {
    expect(classifyGap("us-equity", d1, "regular", Z("2024-01-05T16:00:00Z"), Z("2024-01-08T09:30:00Z"))).toBe(
      "expected_weekend"
    )
    expect(classifyGap("us-equity", d1, "regular", Z("2024-01-15T09:30:00Z"), Z("2024-01-15T21:00:00Z"))).toBe(
      "expected_holiday"
    )
    expect(classifyGap("us-equity", h1, "regular", Z("2024-01-10T14:00:00Z"), Z("2024-01-10T16:00:00Z"))).toBe(
      "unexpected"
    )
    // KTRDR called a long span of missing trading days a "market closure"; the calendar says it was open.
    expect(classifyGap("us-equity", d1, "regular", Z("2024-06-10T00:00:00Z"), Z("2024-06-14T09:30:00Z"))).toBe(
      "unexpected"
    )
    expect(classifyGap("us-equity", h1, "regular", Z("2024-01-06T00:00:00Z"), Z("2024-01-07T00:00:00Z"))).toBe(
      "expected_weekend"
    )
  })

  it(
    "fixes KTRDR's defects: overnight spans are trading hours, " +
      "a Monday or Friday gap is no holiday, Good Friday is one",
    () => {
      expect(classifyGap("us-equity", h1, "regular", ny("2024-01-09T16:00"), ny("2024-01-10T09:30"))).toBe(
        "expected_trading_hours"
      )
      expect(classifyGap("us-equity", h1, "regular", ny("2024-01-08T09:30"), ny("2024-01-08T12:00"))).toBe("unexpected")
      expect(classifyGap("us-equity", h1, "regular", ny("2024-01-12T13:00"), ny("2024-01-12T16:00"))).toBe("unexpected")
      expect(classifyGap("us-equity", h1, "regular", ny("2024-03-28T16:00"), ny("2024-04-01T09:30"))).toBe(
        "expected_holiday"
      )
      expect(closedSpanClass("us-equity", ny("2024-11-29T13:00"), ny("2024-12-02T09:30"))).toBe("expected_weekend")
      expect(closedSpanClass("us-equity", ny("2024-11-27T16:00"), ny("2024-11-29T09:30"))).toBe("expected_holiday")
    }
  )
})

describe("stored bars the schedule does not have", () => {
  it("extended-hours bars in an RTH analysis fill nothing and open no gap", () => {
    const from = ny("2024-03-04T00:00")
    const to = ny("2024-03-09T00:00")
    const rth = expectedBarTimes("us-equity", h1, "regular", from, to)
    const extra = [4, 5, 16, 17, 18].flatMap((h) =>
      [4, 5, 6, 7, 8].map((d) => ny(`2024-03-0${d}T${String(h).padStart(2, "0")}:00`))
    )
    const stored = [...rth, ...extra].sort((a, b) => a - b)
    const a = analyzeGaps({ ...equity1h, stored, from, to, now: to })
    expect(a).toMatchObject({
      expectedBars: rth.length,
      presentBars: rth.length,
      missingBars: 0,
      completenessPct: 100,
      unscheduledBars: extra.length,
      gaps: [],
      missing: []
    })
  })
})

describe("long outages", () => {
  it("a missing week of hourly bars inside the stored range is one unexpected gap of five sessions", () => {
    const from = ny("2024-03-04T00:00")
    const to = ny("2024-03-23T00:00")
    const all = expectedBarTimes("us-equity", h1, "regular", from, to)
    const stored = all.filter((t) => t < ny("2024-03-11T00:00") || t >= ny("2024-03-16T00:00"))
    const a = analyzeGaps({ ...equity1h, stored, from, to, now: to })
    expect(a.gaps.map((g) => [g.classification, g.barsMissing, g.sessions])).toEqual([["unexpected", 35, 5]])
    expect(a.gaps[0]!.note).toMatch(/^Unexpected gap \(\d+\.\dh\) during trading period/)
    expect(a.completenessPct).toBeCloseTo((a.presentBars / a.expectedBars) * 100)
  })

  it("a tail load's history: the range before the first stored bar is not loaded, never a closure", () => {
    const from = ny("2024-01-02T00:00")
    const to = ny("2024-03-23T00:00")
    const all = expectedBarTimes("us-equity", h1, "regular", from, to)
    const stored = all.filter((t) => t >= ny("2024-03-11T00:00"))
    const a = analyzeGaps({ ...equity1h, stored, from, to, now: to, includeExpected: true })
    const missing = a.gaps.filter((g) => g.barsMissing > 0)
    expect(missing.map((g) => g.classification)).toEqual(["not_loaded"])
    expect(missing[0]!.barsMissing).toBe(all.length - stored.length)
    expect(a.notLoadedBars).toBe(all.length - stored.length)
    expect(a.completenessPct).toBe(100)
    // Verbose listings never overlap: the nights inside the unloaded run are part of it.
    for (let k = 1; k < a.gaps.length; k++) expect(a.gaps[k]!.start).toBeGreaterThanOrEqual(a.gaps[k - 1]!.end)
  })

  it("an empty range is complete", () => {
    const a = analyzeGaps({
      ...equity1h,
      stored: [],
      from: ny("2024-03-09T00:00"),
      to: ny("2024-03-10T00:00"),
      now: ny("2024-03-11T00:00"),
      includeExpected: true
    })
    expect(a).toMatchObject({ expectedBars: 0, completenessPct: 100, missing: [] })
    expect(a.gaps.map((g) => g.classification)).toEqual(["expected_weekend"])
  })
})

describe("properties", () => {
  const frac = fc.integer({ min: 0, max: 10_000 }).map((n) => n / 10_000)
  it("missing intervals hold exactly the dropped bars, start and end on bars, and never overlap", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...CALENDAR_IDS),
        fc.constantFrom(...TIMEFRAMES.filter((t) => t.ms >= 60_000)),
        fc.boolean(),
        frac,
        fc.array(frac, { maxLength: 40 }),
        frac,
        (calendarId, tf, useRTH, startFrac, drops, nowFrac) => {
          const hours = hoursFor(useRTH)
          const span = tf.intraday ? 15 * 86_400_000 : tf.kind === "day" ? 200 * 86_400_000 : 2000 * 86_400_000
          const from = Z("2022-01-01T00:00:00Z") + Math.floor(startFrac * 900) * 86_400_000
          const to = from + span
          const now = from + nowFrac * 1.2 * span
          const schedule = expectedBars(calendarId, tf, hours, from, to, { now })
          const dropped = new Set(
            drops.map((d) => schedule[Math.floor(d * schedule.length)]?.time).filter((t): t is number =>
              t !== undefined
            )
          )
          const stored = schedule.map((b) => b.time).filter((t) => !dropped.has(t))
          const a = analyzeGaps({ stored, calendarId, timeframe: tf, hours, from, to, now })
          expect(a.expectedBars).toBe(schedule.length)
          expect(a.missingBars).toBe(dropped.size)
          const outside = [...dropped].filter((t) => stored.length === 0 || t < stored[0]! || t > stored.at(-1)!)
          expect(a.notLoadedBars).toBe(outside.length)
          const loaded = schedule.length - outside.length
          expect(a.completenessPct).toBeCloseTo(loaded === 0 ? 100 : (stored.length / loaded) * 100)
          // With the closed spans listed too, no two gaps overlap.
          const verbose = analyzeGaps({
            stored,
            calendarId,
            timeframe: tf,
            hours,
            from,
            to,
            now,
            includeExpected: true
          })
          for (let k = 1; k < verbose.gaps.length; k++) {
            expect(verbose.gaps[k]!.start).toBeGreaterThanOrEqual(verbose.gaps[k - 1]!.end)
          }
          const starts = new Set(schedule.map((b) => b.start))
          const ends = new Set(schedule.map((b) => b.end))
          const inIntervals: Array<number> = []
          let prevEnd = -Infinity
          for (const [s, e] of a.missing) {
            expect(starts.has(s) && ends.has(e)).toBe(true)
            expect(s).toBeGreaterThan(prevEnd)
            prevEnd = e
            inIntervals.push(...expectedBarTimes(calendarId, tf, hours, s, e, { now }))
          }
          expect(inIntervals).toEqual([...dropped].sort((x, y) => x - y))
          expect(a.gaps.reduce((n, g) => n + g.barsMissing, 0)).toBe(dropped.size)
        }
      ),
      { numRuns: 150 }
    )
  })
})
