/** The stepwise gap analysis must equal the one-pass analysis exactly, whatever the windows. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expectedBarTimes, hoursFor } from "../../src/domain/BarSchedule.ts"
import { CALENDAR_IDS } from "../../src/domain/calendar/index.ts"
import { analyzeGaps, missingIntervals } from "../../src/domain/GapAnalysis.ts"
import { missingBarsStepwise, missingIntervalsStepwise } from "../../src/domain/gapSteps.ts"
import { timeframeOf, type TimeframeId } from "../../src/domain/Timeframe.ts"

const run = <A>(g: Generator<void, A>): A => {
  for (;;) {
    const r = g.next()
    if (r.done) return r.value
  }
}

const DAY = 86_400_000
const T0 = Date.UTC(2023, 0, 1)

describe("missingIntervalsStepwise", () => {
  it("equals missingIntervals and analyzeGaps' missing count for random stores, ranges and windows", () => {
    const tfs: ReadonlyArray<TimeframeId> = ["1m", "5m", "30m", "1h", "4h", "1d", "1w", "1M"]
    fc.assert(
      fc.property(
        fc.constantFrom(...CALENDAR_IDS),
        fc.constantFrom(...tfs),
        fc.boolean(),
        fc.integer({ min: 0, max: 600 }).map((d) => T0 + d * DAY + (d % 7) * 3_600_000),
        fc.integer({ min: 1, max: 120 }).map((d) => d * DAY + (d % 5) * 1_234_567),
        fc.integer({ min: 1, max: 40 }).map((d) => d * 0.37 * DAY),
        fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 60 })), {
          maxLength: 6
        }),
        fc.boolean(),
        (calendarId, tfId, rth, from, span, windowMs, holes, withHead) => {
          const tf = timeframeOf(tfId)
          const hours = hoursFor(rth)
          const to = from + span
          const now = to - (withHead ? 0 : DAY)
          const headMs = withHead ? from + span / 3 : undefined
          // A store holding the range's bars (and some beyond), with random runs deleted.
          const all = expectedBarTimes(calendarId, tf, hours, from - 10 * DAY, to + 10 * DAY)
          const drop = new Set<number>()
          for (const [at, len] of holes) {
            const k = Math.floor(at * all.length)
            for (let j = k; j < Math.min(all.length, k + len); j++) drop.add(all[j]!)
          }
          const stored = all.filter((t) => !drop.has(t))
          const input = { stored, calendarId, timeframe: tf, hours, from, to, now, headMs }
          expect(run(missingIntervalsStepwise(input, windowMs))).toEqual(missingIntervals(input))
          expect(run(missingBarsStepwise(input, windowMs))).toBe(analyzeGaps(input).missingBars)
        }
      ),
      { numRuns: 300 }
    )
  })
})
