/**
 * GET /timeframes rows from the one timeframe table, in KTRDR's words ("1 Hour", "One-hour interval
 * data"; "Daily" for 1d), plus the nominal length in seconds KTRDR's docstring promised.
 */
import { TIMEFRAMES, type Timeframe } from "../domain/Timeframe.ts"
import type { TimeframeInfo } from "../contract/api/data.ts"

const WORDS: Readonly<Record<number, string>> = {
  1: "One",
  2: "Two",
  4: "Four",
  5: "Five",
  15: "Fifteen",
  30: "Thirty"
}
const UNITS: Readonly<Record<string, string>> = { s: "Second", m: "Minute", h: "Hour" }
const LONG: Readonly<Record<string, string>> = { d: "Daily", w: "Weekly", M: "Monthly" }

const describe = (tf: Timeframe): typeof TimeframeInfo.Type => {
  const n = Number(tf.id.slice(0, -1))
  const unit = tf.id.slice(-1)
  const seconds = tf.ms / 1000
  const long = LONG[unit]
  if (long !== undefined) return { id: tf.id, name: long, description: `${long} interval data`, seconds }
  const u = UNITS[unit]!
  return {
    id: tf.id,
    name: `${n} ${u}${n === 1 ? "" : "s"}`,
    description: `${WORDS[n] ?? n}-${u.toLowerCase()} interval data`,
    seconds
  }
}

export const TIMEFRAME_INFOS: ReadonlyArray<typeof TimeframeInfo.Type> = TIMEFRAMES.map(describe)
