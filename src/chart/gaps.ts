/**
 * Gap markers. The chart's time axis only has slots for bars that exist, so a gap cannot be drawn as a
 * span; it is marked on the first bar after it (or the last bar before a trailing gap). Unexpected gaps
 * get a visible labelled arrow; expected ones (nights, weekends, holidays) a faint dot. History outside the stored
 * range (`not_loaded`) gets no marker — nothing is wrong there — and is only counted in the summary line.
 */
import { parseUtc } from "./time.ts"

export interface ApiGap {
  readonly start_time: string
  readonly end_time: string
  readonly classification: string
  readonly bars_missing: number
  readonly duration_hours: number
  readonly note?: string | null
}

export interface GapMarkerSpec {
  /** Index of the bar the marker sits on. */
  readonly barIndex: number
  readonly kind: "unexpected" | "closure" | "expected" | "not_loaded"
  readonly text: string
  readonly gap: ApiGap
}

export const kindOf = (classification: string): GapMarkerSpec["kind"] =>
  classification === "unexpected"
    ? "unexpected"
    : classification === "market_closure"
    ? "closure"
    : classification === "not_loaded"
    ? "not_loaded"
    : "expected"

/** First index with `times[i] >= t` (times ascending), or `times.length`. */
const lowerBound = (times: ReadonlyArray<number>, t: number) => {
  let lo = 0
  let hi = times.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (times[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Beyond this many expected gaps (years of intraday nights) their dots would bury the candles. */
export const MAX_EXPECTED_MARKERS = 300

/**
 * Markers for `gaps` on bars at `barTimes` (UTC epoch ms, ascending), ordered by bar as the chart needs.
 * Expected gaps are left out when there are more than `maxExpected`; unexpected ones always show.
 */
export const gapMarkers = (
  gaps: ReadonlyArray<ApiGap>,
  barTimes: ReadonlyArray<number>,
  maxExpected = MAX_EXPECTED_MARKERS
): GapMarkerSpec[] => {
  if (barTimes.length === 0) return []
  const showExpected = countGaps(gaps).expected <= maxExpected
  const out: GapMarkerSpec[] = []
  for (const gap of gaps) {
    const kind = kindOf(gap.classification)
    if ((kind === "expected" && !showExpected) || kind === "not_loaded") continue
    const after = lowerBound(barTimes, parseUtc(gap.end_time))
    const barIndex = after < barTimes.length ? after : barTimes.length - 1
    const text = kind === "unexpected" ? `gap: ${gap.bars_missing} missing` : kind === "closure" ? "closure" : ""
    out.push({ barIndex, kind, text, gap })
  }
  return out.sort((a, b) => a.barIndex - b.barIndex)
}

export interface GapCounts {
  readonly unexpected: number
  readonly closure: number
  readonly expected: number
  readonly missingBars: number
  readonly notLoadedBars: number
}

export const countGaps = (gaps: ReadonlyArray<ApiGap>): GapCounts => {
  let unexpected = 0, closure = 0, expected = 0, missingBars = 0, notLoadedBars = 0
  for (const g of gaps) {
    const k = kindOf(g.classification)
    if (k === "unexpected") {
      unexpected++
      missingBars += g.bars_missing
    } else if (k === "closure") {
      closure++
      missingBars += g.bars_missing
    } else if (k === "not_loaded") notLoadedBars += g.bars_missing
    else expected++
  }
  return { unexpected, closure, expected, missingBars, notLoadedBars }
}
