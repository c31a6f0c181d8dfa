/**
 * The day-to-day price level of each path: a mean-reverting walk in log space (so decades of history
 * stay plausible around the instrument's level), one step per trading session since the path's head.
 */
import { calendarFor, type CalendarId } from "../domain/calendar/index.ts"
import { gauss, seedOf } from "./random.ts"

/** Half-life of about two years: long enough to look like a walk, short enough to never drift to 0. */
const REVERSION = Math.LN2 / 500

interface Path {
  readonly dayIndex: Map<string, number>
  readonly closes: Array<number>
  /** Exclusive epoch ms up to which sessions are indexed. */
  indexedTo: number
}

const paths = new Map<string, Path>()

export interface PathSpec {
  readonly pathKey: string
  readonly pathHeadDay: string
  readonly calendar: CalendarId
  readonly level: number
  readonly annualVol: number
}

const YEAR_MS = 366 * 86_400_000

const pathFor = (spec: PathSpec): Path => {
  let p = paths.get(spec.pathKey)
  if (!p) {
    p = { dayIndex: new Map(), closes: [], indexedTo: Date.parse(`${spec.pathHeadDay}T00:00:00Z`) - 86_400_000 }
    paths.set(spec.pathKey, p)
  }
  return p
}

/**
 * Closing level (log-space walk) of the session `tradingDay`, and the previous session's close.
 * Returns undefined for days before the path's head or without a session.
 */
export const dailyLevels = (spec: PathSpec, tradingDay: string, atMs: number): { prev: number; close: number; index: number } | undefined => {
  const p = pathFor(spec)
  const cal = calendarFor(spec.calendar)
  const seed = seedOf(spec.pathKey)
  const sigma = spec.annualVol / Math.sqrt(252)
  const mean = Math.log(spec.level)
  while (p.indexedTo <= atMs + 2 * 86_400_000) {
    const to = p.indexedTo + YEAR_MS
    for (const s of cal.sessionsBetween(p.indexedTo, to, "extended")) {
      if (p.dayIndex.has(s.tradingDay) || s.tradingDay < spec.pathHeadDay) continue
      const i = p.closes.length
      const prevLog = i === 0 ? mean : Math.log(p.closes[i - 1]!)
      const next = prevLog + REVERSION * (mean - prevLog) + sigma * gauss(seed, i)
      p.dayIndex.set(s.tradingDay, i)
      p.closes.push(Math.exp(next))
    }
    p.indexedTo = to
  }
  const i = p.dayIndex.get(tradingDay)
  if (i === undefined) return undefined
  return { prev: i === 0 ? spec.level : p.closes[i - 1]!, close: p.closes[i]!, index: i }
}
