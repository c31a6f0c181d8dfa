/**
 * `trading_hours_only` / `include_extended` of GET /data: keeps the bars that lie inside a session of
 * the instrument's calendar. KTRDR compared each bar's exchange wall clock with one fixed
 * `[start, end]` pair (inclusive), which kept a bar labelled 16:00 in the regular session, ignored
 * holidays and early closes, and dropped every daily bar (00:00Z is the previous evening in New York).
 * Here a bar is kept when its label — the instant a stored bar's time marks — falls in a session:
 * intraday bars by instant, `[open, close)`; daily and longer bars by their trading day.
 */
import { sessionOfBarTime } from "./BarSchedule.ts"
import { calendarFor, type CalendarId, type Hours, type Session } from "./calendar/index.ts"
import type { Timeframe } from "./Timeframe.ts"

export interface TradingHoursQuery {
  readonly tradingHoursOnly: boolean
  /** Only meaningful with tradingHoursOnly: also keep pre-market and after-hours bars. */
  readonly includeExtended: boolean
}

/** The session kind a query keeps, or undefined when it filters nothing. */
export const hoursOf = (q: TradingHoursQuery): Hours | undefined =>
  q.tradingHoursOnly ? (q.includeExtended ? "extended" : "regular") : undefined

/**
 * A predicate over stored bar times. Stateful for speed: bars arrive ascending, so the last session
 * found answers most bars without a calendar lookup (still correct for any order, only slower).
 */
export const sessionFilter = (calendarId: CalendarId, tf: Timeframe, hours: Hours): (time: number) => boolean => {
  if (!tf.intraday) return (time) => sessionOfBarTime(calendarId, tf, hours, time) !== undefined
  const cal = calendarFor(calendarId)
  let last: Session | undefined
  return (time) => {
    if (last !== undefined && time >= last.open && time < last.close) return true
    const s = cal.sessionAt(time, hours)
    if (s !== undefined) last = s
    return s !== undefined
  }
}
