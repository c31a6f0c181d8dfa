/**
 * KTRDR's `trading_hours` description of a market (`{timezone, regular_hours, extended_hours,
 * trading_days}`), derived from our trading calendars rather than typed in per symbol: KTRDR's host
 * service wrote 09:30–16:00 New York for every instrument, forex included. The description is what
 * the chart's filter panel and market-open badge show; the filter itself (tradingHoursFilter.ts)
 * asks the calendar directly, so holidays, early closes and DST are right there too.
 */
import { DateTime } from "luxon"
import { calendarFor, type CalendarId, type Session } from "./calendar/index.ts"

export interface SessionHours {
  /** Wall clock of the exchange, `HH:MM`. */
  readonly start: string
  readonly end: string
  readonly name: string
}

export interface TradingHoursInfo {
  /** IANA zone of the exchange clock the hours are given in. */
  readonly timezone: string
  readonly regular_hours: SessionHours
  readonly extended_hours: ReadonlyArray<SessionHours>
  /** Days with trading, 0 = Monday … 6 = Sunday (a session opening Sunday evening counts Sunday). */
  readonly trading_days: ReadonlyArray<number>
}

const DAY_MS = 86_400_000
/** Where the search for an ordinary week starts; any date works, the rules do not change over time. */
const REFERENCE_MONDAY = Date.UTC(2024, 0, 8)

const wall = (ms: number, zone: string) => DateTime.fromMillis(ms, { zone })
const hhmm = (ms: number, zone: string) => wall(ms, zone).toFormat("HH:mm")
/** luxon's weekday is 1 = Monday … 7 = Sunday; KTRDR's is 0 = Monday. */
const weekday = (ms: number, zone: string) => wall(ms, zone).weekday - 1

/**
 * The sessions of the first Monday–Friday week without a holiday or an early close: the calendar's
 * ordinary hours. Undefined only for a calendar that never has such a week (none of ours).
 */
const ordinaryWeek = (id: CalendarId, hours: "regular" | "extended"): ReadonlyArray<Session> | undefined => {
  const cal = calendarFor(id)
  for (let week = 0; week < 26; week++) {
    const monday = REFERENCE_MONDAY + week * 7 * DAY_MS
    const days = [0, 1, 2, 3, 4].map((d) => new Date(monday + d * DAY_MS).toISOString().slice(0, 10))
    const sessions = days.map((d) => cal.session(d, hours))
    if (sessions.every((s): s is Session => s !== undefined && !s.earlyClose)) return sessions
  }
  return undefined
}

const memo = new Map<CalendarId, TradingHoursInfo | null>()

/** The calendar's ordinary hours in KTRDR's shape (memoised: calendars are fixed tables). */
export const tradingHoursOf = (id: CalendarId): TradingHoursInfo | undefined => {
  const hit = memo.get(id)
  if (hit !== undefined) return hit ?? undefined
  const info = describe(id)
  memo.set(id, info ?? null)
  return info
}

const describe = (id: CalendarId): TradingHoursInfo | undefined => {
  const zone = calendarFor(id).timeZone
  const regular = ordinaryWeek(id, "regular")
  const extended = ordinaryWeek(id, "extended")
  const r = regular?.[0], e = extended?.[0]
  if (!regular || !extended || !r || !e) return undefined
  const extendedHours: Array<SessionHours> = []
  // The extended session contains the regular one; what lies outside it on either side is named as KTRDR did.
  if (e.open < r.open) extendedHours.push({ start: hhmm(e.open, zone), end: hhmm(r.open, zone), name: "Pre-Market" })
  if (e.close > r.close) {
    extendedHours.push({ start: hhmm(r.close, zone), end: hhmm(e.close, zone), name: "After-Hours" })
  }
  const days = new Set<number>()
  for (const s of extended) {
    days.add(weekday(s.open, zone))
    days.add(weekday(s.close - 60_000, zone))
  }
  return {
    timezone: zone,
    regular_hours: { start: hhmm(r.open, zone), end: hhmm(r.close, zone), name: "Regular" },
    extended_hours: extendedHours,
    trading_days: [...days].sort((a, b) => a - b)
  }
}
