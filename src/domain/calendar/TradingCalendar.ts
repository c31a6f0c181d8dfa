/**
 * Trading calendars: when an instrument trades, as UTC sessions derived from the exchange's
 * wall-clock rules. Wall times are converted with the exchange's IANA zone so DST is right on
 * both sides of every change, including sessions that start the evening before a switch.
 */
import { IANAZone } from "luxon"
import {
  CHRISTMAS,
  dayOfEpochDay,
  epochDayOf,
  GOOD_FRIDAY,
  NEW_YEARS_DAY,
  nyseEarlyClose,
  nyseHoliday,
  weekdayOf
} from "./UsHolidays.ts"

export type CalendarId = "us-equity" | "us-index" | "cme-equity-futures" | "forex"
export type Hours = "regular" | "extended"

export interface Session {
  /** The exchange date the session belongs to; for sessions opening the evening before, the day they end. */
  readonly tradingDay: string
  /** Epoch ms UTC, inclusive, on a whole minute. */
  readonly open: number
  /** Epoch ms UTC, exclusive, on a whole minute. */
  readonly close: number
  readonly earlyClose: boolean
}

export type ClosedReason = "weekend" | "holiday"

export interface Closure {
  readonly reason: ClosedReason
  readonly name?: string
}

export interface TradingCalendar {
  readonly id: CalendarId
  /** IANA zone the exchange keeps its clock in. */
  readonly timeZone: string
  /** The zone id IB reports in contract details. */
  readonly ibTimeZoneId: string
  /** The session of a trading day, or undefined on weekends/holidays. Throws RangeError on a malformed day. */
  session(tradingDay: string, hours: Hours): Session | undefined
  closedReason(tradingDay: string): Closure | undefined
  /** Every session overlapping [fromMs, toMs), ascending. */
  sessionsBetween(fromMs: number, toMs: number, hours: Hours): ReadonlyArray<Session>
  /** The session containing the instant, if any. */
  sessionAt(ms: number, hours: Hours): Session | undefined
  /** The last `count` sessions whose open < ms, ascending (a session containing ms counts). */
  previousSessions(ms: number, count: number, hours: Hours): ReadonlyArray<Session>
  /** The first session with close > ms (possibly the one containing ms), searching about two weeks ahead. */
  nextSession(ms: number, hours: Hours): Session | undefined
}

export const CALENDAR_IDS: ReadonlyArray<CalendarId> = ["us-equity", "us-index", "cme-equity-futures", "forex"]

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
const BLOCK_MS = 28 * DAY_MS

/**
 * Zone offsets cached per 4-week block: luxon needs several µs per offset lookup (it goes through
 * Intl), far too slow for millions of session computations, while offsets change at most twice a
 * year. Assumes at most one transition per block and transitions on whole minutes — true of the
 * tz database for the US zones used here since 1970.
 */
class ZoneClock {
  private readonly zone: IANAZone
  private readonly starts = new Map<number, number>()
  private readonly blocks = new Map<number, { readonly before: number; readonly after: number; readonly at: number }>()

  constructor(name: string) {
    this.zone = IANAZone.create(name)
    if (!this.zone.isValid) throw new RangeError(`Unknown time zone "${name}"`)
  }

  /** UTC offset in minutes at an instant. */
  offset(ms: number): number {
    const block = Math.floor(ms / BLOCK_MS)
    let b = this.blocks.get(block)
    if (b === undefined) {
      const before = this.offsetAtStart(block)
      const after = this.offsetAtStart(block + 1)
      let hi = ((block + 1) * BLOCK_MS) / MINUTE_MS
      if (before !== after) {
        let lo = (block * BLOCK_MS) / MINUTE_MS
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2)
          if (this.zone.offset(mid * MINUTE_MS) === before) lo = mid
          else hi = mid
        }
      }
      b = { before, after, at: hi * MINUTE_MS }
      this.blocks.set(block, b)
    }
    return ms < b.at ? b.before : b.after
  }

  private offsetAtStart(block: number): number {
    let o = this.starts.get(block)
    if (o === undefined) {
      o = this.zone.offset(block * BLOCK_MS)
      this.starts.set(block, o)
    }
    return o
  }

  /** The UTC instant of a wall-clock minute on an epoch day. */
  toUtc(epochDay: number, minuteOfDay: number): number {
    const wall = epochDay * DAY_MS + minuteOfDay * MINUTE_MS
    const o1 = this.offset(wall)
    const t1 = wall - o1 * MINUTE_MS
    const o2 = this.offset(t1)
    if (o2 === o1) return t1
    const t2 = wall - o2 * MINUTE_MS
    const o3 = this.offset(t2)
    if (o3 === o2) return t2
    // A wall time skipped by a spring-forward gap: resolve it forward, as luxon does.
    return wall - Math.min(o2, o3) * MINUTE_MS
  }

  /** The epoch day of the wall-clock date at an instant. */
  localEpochDay(ms: number): number {
    return Math.floor((ms + this.offset(ms) * MINUTE_MS) / DAY_MS)
  }
}

const clocks = new Map<string, ZoneClock>()

// Calendars in the same zone share one clock, so its offset cache is filled once.
const clockFor = (zone: string): ZoneClock => {
  let c = clocks.get(zone)
  if (c === undefined) {
    c = new ZoneClock(zone)
    clocks.set(zone, c)
  }
  return c
}

/** Wall-clock minutes relative to midnight starting the trading day; negative = the evening before. */
interface Times {
  readonly open: number
  readonly close: number
  readonly earlyClose: boolean
}

interface CalendarRules {
  readonly id: CalendarId
  readonly timeZone: string
  readonly ibTimeZoneId: string
  /** Only consulted for Monday–Friday. */
  readonly holiday: (day: string) => string | undefined
  /** Only consulted for days that have a session. */
  readonly times: (day: string, hours: Hours) => Times
}

const hm = (h: number, m = 0): number => h * 60 + m
const PREVIOUS_EVENING = -hm(24)

// Supported span of the holiday rules, with a day's margin for sessions opening the evening before.
const MIN_DAY = epochDayOf("1969-12-31")
const MAX_DAY = epochDayOf("2101-01-01")
const MIN_MS = MIN_DAY * DAY_MS
const MAX_MS = (MAX_DAY + 1) * DAY_MS

class Calendar implements TradingCalendar {
  readonly id: CalendarId
  readonly timeZone: string
  readonly ibTimeZoneId: string
  private readonly clock: ZoneClock
  // null marks a memoised "no session", so misses and closed days are told apart. Scans go by
  // epoch day so they never parse or format day strings once warm.
  private readonly byDay: Record<Hours, Map<number, Session | null>> = { regular: new Map(), extended: new Map() }
  private readonly byName: Record<Hours, Map<string, Session | null>> = { regular: new Map(), extended: new Map() }

  constructor(private readonly rules: CalendarRules) {
    this.id = rules.id
    this.timeZone = rules.timeZone
    this.ibTimeZoneId = rules.ibTimeZoneId
    this.clock = clockFor(rules.timeZone)
  }

  session(tradingDay: string, hours: Hours): Session | undefined {
    const cache = this.byName[hours]
    const hit = cache.get(tradingDay)
    if (hit !== undefined) return hit ?? undefined
    const s = this.onDay(this.epochDay(tradingDay), hours)
    cache.set(tradingDay, s ?? null)
    return s
  }

  closedReason(tradingDay: string): Closure | undefined {
    return this.closure(tradingDay, this.epochDay(tradingDay))
  }

  sessionsBetween(fromMs: number, toMs: number, hours: Hours): ReadonlyArray<Session> {
    const out: Array<Session> = []
    if (!(fromMs < toMs)) return out
    // A session ends on its trading day and opens no earlier than the evening before.
    const first = this.dayAt(fromMs)
    const last = Math.min(this.dayAt(toMs - 1) + 1, MAX_DAY)
    for (let d = first; d <= last; d++) {
      const s = this.onDay(d, hours)
      if (s !== undefined && s.close > fromMs && s.open < toMs) out.push(s)
    }
    return out
  }

  sessionAt(ms: number, hours: Hours): Session | undefined {
    if (Number.isNaN(ms)) return undefined
    const day = this.dayAt(ms)
    for (let d = day; d <= day + 1; d++) {
      const s = this.onDay(d, hours)
      if (s !== undefined && s.open <= ms && ms < s.close) return s
    }
    return undefined
  }

  previousSessions(ms: number, count: number, hours: Hours): ReadonlyArray<Session> {
    const out: Array<Session> = []
    if (Number.isNaN(ms)) return out
    for (let d = Math.min(this.dayAt(ms) + 1, MAX_DAY); out.length < count && d >= MIN_DAY; d--) {
      const s = this.onDay(d, hours)
      if (s !== undefined && s.open < ms) out.push(s)
    }
    return out.reverse()
  }

  nextSession(ms: number, hours: Hours): Session | undefined {
    if (Number.isNaN(ms)) return undefined
    const day = this.dayAt(ms)
    for (let d = day; d <= day + 15; d++) {
      const s = this.onDay(d, hours)
      if (s !== undefined && s.close > ms) return s
    }
    return undefined
  }

  /** The local epoch day of an instant, clamped so scans from extreme instants stay bounded. */
  private dayAt(ms: number): number {
    return this.clock.localEpochDay(Math.min(Math.max(ms, MIN_MS), MAX_MS))
  }

  private epochDay(tradingDay: string): number {
    const d = epochDayOf(tradingDay)
    if (Number.isNaN(d)) throw new RangeError(`Invalid trading day "${tradingDay}" (expected YYYY-MM-DD)`)
    return d
  }

  private closure(tradingDay: string, epochDay: number): Closure | undefined {
    const wd = weekdayOf(epochDay)
    if (wd === 0 || wd === 6) return { reason: "weekend" }
    const name = this.rules.holiday(tradingDay)
    return name === undefined ? undefined : { reason: "holiday", name }
  }

  private onDay(epochDay: number, hours: Hours): Session | undefined {
    const cache = this.byDay[hours]
    const hit = cache.get(epochDay)
    if (hit !== undefined) return hit ?? undefined
    const s = this.build(epochDay, hours)
    cache.set(epochDay, s ?? null)
    return s
  }

  private build(epochDay: number, hours: Hours): Session | undefined {
    const tradingDay = dayOfEpochDay(epochDay)
    if (this.closure(tradingDay, epochDay) !== undefined) return undefined
    const t = this.rules.times(tradingDay, hours)
    const at = (minute: number) =>
      this.clock.toUtc(epochDay + Math.floor(minute / 1440), ((minute % 1440) + 1440) % 1440)
    return Object.freeze({ tradingDay, open: at(t.open), close: at(t.close), earlyClose: t.earlyClose })
  }
}

const nyseTimes = (regularOnly: boolean) => (day: string, hours: Hours): Times => {
  const early = nyseEarlyClose(day)
  return hours === "regular" || regularOnly
    ? { open: hm(9, 30), close: early ? hm(13) : hm(16), earlyClose: early }
    : { open: hm(4), close: early ? hm(17) : hm(20), earlyClose: early }
}

// CME equity futures stop entirely only on these; other NYSE holidays (one-off closures included,
// a simplification) get a session halted at 12:00 CT.
const CME_FULL_CLOSURES: ReadonlySet<string> = new Set([NEW_YEARS_DAY, GOOD_FRIDAY, CHRISTMAS])

const cmeHoliday = (day: string): string | undefined => {
  const name = nyseHoliday(day)
  return name !== undefined && CME_FULL_CLOSURES.has(name) ? name : undefined
}

const cmeTimes = (day: string, hours: Hours): Times => {
  const holiday = nyseHoliday(day) !== undefined
  const halfDay = !holiday && nyseEarlyClose(day)
  const shortClose = holiday ? hm(12) : halfDay ? hm(12, 15) : undefined
  const earlyClose = shortClose !== undefined
  return hours === "regular"
    ? { open: hm(8, 30), close: shortClose ?? hm(15), earlyClose }
    : { open: PREVIOUS_EVENING + hm(17), close: shortClose ?? hm(16), earlyClose }
}

const forexHoliday = (day: string): string | undefined => {
  const monthDay = day.slice(5)
  return monthDay === "12-25" ? CHRISTMAS : monthDay === "01-01" ? NEW_YEARS_DAY : undefined
}

const forexTimes = (): Times => ({ open: PREVIOUS_EVENING + hm(17, 15), close: hm(17), earlyClose: false })

const NEW_YORK = "America/New_York"
const calendar = (
  id: CalendarId,
  timeZone: string,
  ibTimeZoneId: string,
  holiday: CalendarRules["holiday"],
  times: CalendarRules["times"]
) => new Calendar({ id, timeZone, ibTimeZoneId, holiday, times })

const calendars: Record<CalendarId, TradingCalendar> = {
  "us-equity": calendar("us-equity", NEW_YORK, "US/Eastern", nyseHoliday, nyseTimes(false)),
  "us-index": calendar("us-index", NEW_YORK, "US/Eastern", nyseHoliday, nyseTimes(true)),
  "cme-equity-futures": calendar("cme-equity-futures", "America/Chicago", "US/Central", cmeHoliday, cmeTimes),
  forex: calendar("forex", NEW_YORK, "US/Eastern", forexHoliday, forexTimes)
}

export const calendarFor = (id: CalendarId): TradingCalendar => calendars[id]
