/** The stepwise planner must plan exactly the segments of the one-pass planner, whatever the windows. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expectedBarTimes, hoursFor } from "../../src/domain/BarSchedule.ts"
import { CALENDAR_IDS } from "../../src/domain/calendar/index.ts"
import { missingIntervals } from "../../src/domain/GapAnalysis.ts"
import { planSegments, planSegmentsStepwise } from "../../src/domain/SegmentPlanner.ts"
import { timeframeOf, type TimeframeId } from "../../src/domain/Timeframe.ts"

const DAY = 86_400_000
const T0 = Date.UTC(2023, 0, 1)

const drain = <A>(g: Generator<void, A>): A => {
  for (;;) {
    const r = g.next()
    if (r.done) return r.value
  }
}

describe("planSegmentsStepwise", () => {
  it("plans the same segments as planSegments", () => {
    const tfs: ReadonlyArray<TimeframeId> = ["30s", "1m", "5m", "30m", "1h", "4h", "1d", "1w"]
    fc.assert(
      fc.property(
        fc.constantFrom(...CALENDAR_IDS),
        fc.constantFrom(...tfs),
        fc.boolean(),
        fc.integer({ min: 0, max: 600 }).map((d) => T0 + d * DAY + (d % 5) * 3_600_000),
        fc.integer({ min: 1, max: 90 }).map((d) => d * DAY + (d % 3) * 2_345_678),
        fc.integer({ min: 1, max: 30 }).map((d) => d * 0.41 * DAY),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 400 })), {
          maxLength: 5
        }),
        (calendarId, tfId, rth, from, span, windowMs, keep) => {
          const tf = timeframeOf(tfId)
          const hours = hoursFor(rth)
          const to = from + span
          const now = to
          const all = expectedBarTimes(calendarId, tf, hours, from, to)
          const stored = all.filter((_, i) =>
            keep.some(([at, len]) => i >= Math.floor(at * all.length) && i < Math.floor(at * all.length) + len)
          )
          const missing = missingIntervals({ stored, calendarId, timeframe: tf, hours, from, to, now })
          const input = { calendarId, timeframe: tf, useRTH: rth, missing, now }
          expect(drain(planSegmentsStepwise(input, windowMs))).toEqual(planSegments(input))
        }
      ),
      { numRuns: 200 }
    )
  })
})
