/**
 * The gap analysis a load needs, in steps: years of 1-minute bars are millions of scheduled bars, and
 * one synchronous pass blocked the server for hundreds of milliseconds. These generators analyse the
 * range window by window and yield between windows, so an Effect driver can give the event loop a turn;
 * their results equal the one-pass functions exactly (property-tested).
 */
import type { Interval } from "./BarSchedule.ts"
import { analyzeGaps, type GapInput } from "./GapAnalysis.ts"

/** About a month of calendar time per step: ~8k one-minute RTH bars, ~40k for forex. */
export const STEP_WINDOW_MS = 30 * 86_400_000

type Input = Omit<GapInput, "includeExpected">

/**
 * Intraday bars belong to the window holding their label time; weekly and monthly bars span windows, and
 * daily series are small, so anything not intraday is analysed in one step.
 */
const stepOf = (input: Input, windowMs: number) => (input.timeframe.intraday ? windowMs : Infinity)

/**
 * Runs of missing bars, as `missingIntervals`. Windows split the scheduled bars without overlap (a bar
 * belongs to the window holding its time), so a run cut by a window boundary is joined again when the
 * previous window's run ended at its last scheduled bar and this one starts at its first.
 */
export function* missingIntervalsStepwise(
  input: Input,
  windowMs = STEP_WINDOW_MS
): Generator<void, ReadonlyArray<Interval>> {
  const out: Array<Interval> = []
  let openAtEnd = false
  const step = stepOf(input, windowMs)
  for (let from = input.from; from < input.to; from += step) {
    const a = analyzeGaps({ ...input, from, to: Math.min(input.to, from + step), includeExpected: false })
    if (a.scheduled !== null) {
      a.missing.forEach((m, k) => {
        const last = out.at(-1)
        if (k === 0 && openAtEnd && last && m[0] === a.scheduled![0]) out[out.length - 1] = [last[0], m[1]]
        else out.push(m)
      })
      const lastMissing = a.missing.at(-1)
      openAtEnd = lastMissing !== undefined && lastMissing[1] === a.scheduled[1]
    }
    yield
  }
  return out
}

/** Expected bars still missing in the range, as `analyzeGaps(…).missingBars`. */
export function* missingBarsStepwise(input: Input, windowMs = STEP_WINDOW_MS): Generator<void, number> {
  let n = 0
  const step = stepOf(input, windowMs)
  for (let from = input.from; from < input.to; from += step) {
    n += analyzeGaps({ ...input, from, to: Math.min(input.to, from + step), includeExpected: false }).missingBars
    yield
  }
  return n
}
