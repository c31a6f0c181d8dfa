/**
 * How much history a first `tail` load of a never-loaded series fetches when no start is given. KTRDR
 * took 30 days whatever the bar size — 20 daily bars, a useless start for a daily series, and a day's
 * worth of requests for seconds. These spans give a few thousand to tens of thousands of bars, within
 * a few minutes of IB's pacing: enough to look at and to compute indicators on. More is one backfill away.
 */
import type { Timeframe } from "./Timeframe.ts"

const DAY_MS = 86_400_000

export interface DefaultHistory {
  /** How far back from now; "all" = from IB's head timestamp. */
  readonly ms: number | "all"
  /** In words, for summaries and docs. */
  readonly label: string
}

export const defaultHistory = (tf: Timeframe): DefaultHistory => {
  if (tf.ms < 60_000) return { ms: DAY_MS, label: "1 day" }
  if (tf.ms < 5 * 60_000) return { ms: 30 * DAY_MS, label: "30 days" }
  if (tf.ms < 3_600_000) return { ms: 365 * DAY_MS, label: "1 year" }
  if (tf.ms < DAY_MS) return { ms: 2 * 365 * DAY_MS, label: "2 years" }
  if (tf.ms <= DAY_MS) return { ms: 10 * 365 * DAY_MS, label: "10 years" }
  return { ms: "all", label: "all history" }
}
