/**
 * The day-to-day price level of each path: a mean-reverting walk in log space (so decades of history
 * stay plausible around the instrument's level), one step per weekday since the path's head. Indexing
 * by weekday (holidays simply take a step nobody trades) keeps it pure arithmetic: the first request
 * for a 1980 listing costs ~12k steps, not a 45-year calendar scan.
 */
import { gauss, seedOf } from "./random.ts"

/** Half-life of about two years: long enough to look like a walk, short enough to never drift to 0. */
const REVERSION = Math.LN2 / 500
const DAY = 86_400_000

interface Path {
  closes: Float64Array
  length: number
}

const paths = new Map<string, Path>()

export interface PathSpec {
  readonly pathKey: string
  readonly pathHeadDay: string
  readonly level: number
  readonly annualVol: number
}

/** Weekdays (Mon–Fri) from epoch day `a` (inclusive) to `b` (exclusive); 1970-01-01 was a Thursday. */
const weekdaysBetween = (a: number, b: number): number => {
  const count = (d: number) => {
    // weekdays in [0, d): whole weeks, plus the remainder starting from Thursday
    const weeks = Math.floor(d / 7)
    let n = weeks * 5
    for (let i = weeks * 7; i < d; i++) {
      const dow = (i + 4) % 7
      if (dow !== 0 && dow !== 6) n++
    }
    return n
  }
  return count(b) - count(a)
}

const epochDay = (iso: string) => Math.floor(Date.parse(`${iso}T00:00:00Z`) / DAY)

/**
 * Closing level of the session `tradingDay` and the previous weekday's close; undefined before the
 * path's head. Sessions on weekends (forex, futures open Sunday evening) belong to their trading day.
 */
export const dailyLevels = (
  spec: PathSpec,
  tradingDay: string
): { prev: number; close: number; index: number } | undefined => {
  const i = weekdaysBetween(epochDay(spec.pathHeadDay), epochDay(tradingDay))
  if (i < 0) return undefined
  let p = paths.get(spec.pathKey)
  if (!p) paths.set(spec.pathKey, p = { closes: new Float64Array(4096), length: 0 })
  if (i >= p.length) {
    if (i >= p.closes.length) {
      const grown = new Float64Array(Math.max(i + 1, p.closes.length * 2))
      grown.set(p.closes.subarray(0, p.length))
      p.closes = grown
    }
    const seed = seedOf(spec.pathKey)
    const sigma = spec.annualVol / Math.sqrt(252)
    const mean = Math.log(spec.level)
    for (let k = p.length; k <= i; k++) {
      const prevLog = k === 0 ? mean : Math.log(p.closes[k - 1]!)
      p.closes[k] = Math.exp(prevLog + REVERSION * (mean - prevLog) + sigma * gauss(seed, k))
    }
    p.length = i + 1
  }
  return { prev: i === 0 ? spec.level : p.closes[i - 1]!, close: p.closes[i]!, index: i }
}
