/**
 * The expected-bar schedule: which bars IB delivers for a window, derived from the trading calendar
 * alone. Gap analysis and segment planning share it, so "what is missing" and "what a request
 * returns" can never disagree. The simulator (src/sim/historicalBars.ts) is the reference of IB's
 * semantics and a property test checks this module against it:
 * - intraday bars are buckets of the exchange's wall clock, restarted every session; a bucket's label
 *   is its first minute inside the session (so the first RTH hour bar is 09:30), and a bucket belongs
 *   to a window [from, to) iff its label does;
 * - a daily bar is one session, labelled by its trading day; weekly bars are ISO weeks and monthly
 *   bars calendar months of trading days, labelled by their first trading day. A daily-or-longer bar
 *   belongs to [from, to) iff one of its sessions overlaps it — IB answers with whole periods.
 * Stored times: intraday = the label instant; daily and longer = 00:00Z of the label's trading day.
 */
import { IANAZone } from "luxon"
import { calendarFor, type CalendarId, type Hours, type Session, type TradingCalendar } from "./calendar/index.ts"
import type { Timeframe } from "./Timeframe.ts"

/** [from, to) in epoch ms UTC. */
export type Interval = readonly [number, number]

export const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

export interface ScheduledBar {
  /** The time the store keeps: the label instant (intraday) or 00:00Z of the label's trading day. */
  readonly time: number
  /** First traded instant of the bar (intraday: = time; daily and longer: its first session's open). */
  readonly start: number
  /** Exclusive end of the bar's trading time (next bucket or session close; the last session's close). */
  readonly end: number
  /** Trading day of the label's session. */
  readonly tradingDay: string
  /** Sessions the bar spans: 1 for intraday and daily bars. */
  readonly sessions: number
}

export interface ScheduleOptions {
  /** IB's head timestamp: sessions opening before it have no bars. */
  readonly headMs?: number | undefined
  /** When given, only bars that have ended by `now` (end ≤ now): a bar still forming is not expected yet. */
  readonly now?: number | undefined
}

export const hoursFor = (useRTH: boolean): Hours => (useRTH ? "regular" : "extended")

/** 00:00Z of an ISO trading day: KTRDR's stored time of daily, weekly and monthly bars. */
export const dayStartMs = (isoDay: string): number => Date.parse(`${isoDay}T00:00:00Z`)

const zones = new Map<string, IANAZone>()
const zoneOf = (cal: TradingCalendar): IANAZone => {
  let z = zones.get(cal.timeZone)
  if (z === undefined) zones.set(cal.timeZone, z = IANAZone.create(cal.timeZone))
  return z
}
const offsetMs = (zone: IANAZone, ms: number): number => zone.offset(ms) * MINUTE_MS

/** Called for each bar in order; returning false stops the scan. */
export type BarVisitor = (bar: ScheduledBar) => boolean | void

/**
 * The buckets of one session with label in [from, to). Sizes below a minute split every minute (they
 * divide 60 s, and sessions open on whole minutes); larger sizes bucket the wall clock, and a zone
 * offset change inside a session (none of our calendars has one, but the rule must hold) is walked
 * minute by minute exactly as the simulator does. Plain loops, not generators: a year of one-minute
 * bars is a quarter of a million of them. Returns false when the visitor stopped.
 */
const sessionBuckets = (
  s: Session,
  sizeMs: number,
  zone: IANAZone,
  from: number,
  to: number,
  visit: BarVisitor
): boolean => {
  const emit = (label: number, end: number) =>
    label < from || visit({ time: label, start: label, end, tradingDay: s.tradingDay, sessions: 1 }) !== false
  const stop = Math.min(s.close, to)
  if (sizeMs < MINUTE_MS) {
    for (let t = Math.max(s.open, Math.ceil(from / sizeMs) * sizeMs); t < stop; t += sizeMs) {
      if (!emit(t, t + sizeMs)) return false
    }
    return true
  }
  const off = offsetMs(zone, s.open)
  if (off === offsetMs(zone, s.close - MINUTE_MS)) {
    for (let t = s.open; t < stop;) {
      const end = Math.min((Math.floor((t + off) / sizeMs) + 1) * sizeMs - off, s.close)
      if (!emit(t, end)) return false
      t = end
    }
    return true
  }
  let label = s.open
  let key = Math.floor((s.open + off) / sizeMs)
  for (let t = s.open + MINUTE_MS; t < s.close; t += MINUTE_MS) {
    const k = Math.floor((t + offsetMs(zone, t)) / sizeMs)
    if (k === key) continue
    if (label >= to) return true
    if (!emit(label, t)) return false
    label = t
    key = k
  }
  return label >= to || emit(label, s.close)
}

/** Monday of the ISO week, or the first of the month: the period a weekly or monthly bar covers. */
export const periodKey = (day: string, kind: "week" | "month"): string => {
  if (kind === "month") return day.slice(0, 7)
  const ms = dayStartMs(day)
  const dow = new Date(ms).getUTCDay()
  return new Date(ms - ((dow + 6) % 7) * DAY_MS).toISOString().slice(0, 10)
}

/** Last calendar day of the period with the given key. */
const periodLastDay = (key: string, kind: "week" | "month"): string => {
  if (kind === "week") return new Date(dayStartMs(key) + 6 * DAY_MS).toISOString().slice(0, 10)
  const [y, m] = key.split("-").map(Number) as [number, number]
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10)
}

const periodFirstDay = (key: string, kind: "week" | "month"): string => (kind === "week" ? key : `${key}-01`)

/** Whole periods with a session overlapping [from, to), labelled by their first session at or after the head. */
const periodBars = (
  cal: TradingCalendar,
  kind: "week" | "month",
  hours: Hours,
  from: number,
  to: number,
  head: number
): Array<ScheduledBar> => {
  const touched = cal.sessionsBetween(from, to, hours).filter((s) => s.open >= head)
  const first = touched[0]
  const last = touched[touched.length - 1]
  if (first === undefined || last === undefined) return []
  const firstDay = periodFirstDay(periodKey(first.tradingDay, kind), kind)
  const lastDay = periodLastDay(periodKey(last.tradingDay, kind), kind)
  // Sessions open at most a day before their trading day; two days of margin each side, then filter by day.
  const all = cal
    .sessionsBetween(dayStartMs(firstDay) - 2 * DAY_MS, dayStartMs(lastDay) + 3 * DAY_MS, hours)
    .filter((s) => s.tradingDay >= firstDay && s.tradingDay <= lastDay && s.open >= head)
  const out: Array<ScheduledBar> = []
  let group: Array<Session> = []
  const flush = () => {
    const a = group[0]
    if (a) {
      out.push({
        time: dayStartMs(a.tradingDay),
        start: a.open,
        end: group[group.length - 1]!.close,
        tradingDay: a.tradingDay,
        sessions: group.length
      })
    }
    group = []
  }
  for (const s of all) {
    const g0 = group[0]
    if (g0 !== undefined && periodKey(g0.tradingDay, kind) !== periodKey(s.tradingDay, kind)) flush()
    group.push(s)
  }
  flush()
  return out
}

/**
 * Visits every bar IB would deliver for the window [fromMs, toMs), ascending (see the module
 * comment); with `opts.now`, stops at the first bar still forming (bars end in ascending order).
 */
export const forEachBar = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  fromMs: number,
  toMs: number,
  opts: ScheduleOptions,
  visit: BarVisitor
): void => {
  const cal = calendarFor(calendarId)
  const head = opts.headMs ?? -Infinity
  const now = opts.now ?? Infinity
  const from = Math.max(fromMs, head)
  if (!(from < toMs)) return
  const v: BarVisitor = (b) => b.end <= now && visit(b) !== false
  if (tf.kind === "week" || tf.kind === "month") {
    for (const b of periodBars(cal, tf.kind, hours, from, toMs, head)) if (!v(b)) return
    return
  }
  const zone = zoneOf(cal)
  for (const s of cal.sessionsBetween(from, toMs, hours)) {
    if (s.open < head) continue
    if (tf.kind === "day") {
      if (!v({ time: dayStartMs(s.tradingDay), start: s.open, end: s.close, tradingDay: s.tradingDay, sessions: 1 })) {
        return
      }
    } else if (!sessionBuckets(s, tf.ms, zone, from, toMs, v)) return
  }
}

export const expectedBars = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  fromMs: number,
  toMs: number,
  opts: ScheduleOptions = {}
): Array<ScheduledBar> => {
  const out: Array<ScheduledBar> = []
  forEachBar(calendarId, tf, hours, fromMs, toMs, opts, (b) => void out.push(b))
  return out
}

/** The stored times of `expectedBars`, ascending epoch ms. */
export const expectedBarTimes = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  fromMs: number,
  toMs: number,
  opts: ScheduleOptions = {}
): Array<number> => {
  const out: Array<number> = []
  forEachBar(calendarId, tf, hours, fromMs, toMs, opts, (b) => void out.push(b.time))
  return out
}

/** The first bar of the window, if any. */
export const firstBar = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  fromMs: number,
  toMs: number,
  opts: ScheduleOptions = {}
): ScheduledBar | undefined => {
  let first: ScheduledBar | undefined
  forEachBar(calendarId, tf, hours, fromMs, toMs, opts, (b) => ((first = b), false))
  return first
}

export const countBars = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  fromMs: number,
  toMs: number,
  opts: ScheduleOptions = {}
): number => {
  let n = 0
  forEachBar(calendarId, tf, hours, fromMs, toMs, opts, () => void n++)
  return n
}

/** The session a stored bar time belongs to (its label's session), or undefined if none. */
export const sessionOfBarTime = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  time: number
): Session | undefined => {
  const cal = calendarFor(calendarId)
  return tf.intraday ? cal.sessionAt(time, hours) : cal.session(new Date(time).toISOString().slice(0, 10), hours)
}

/** The scheduled bar with this stored time, or undefined when the schedule has no such bar. */
export const barAt = (calendarId: CalendarId, tf: Timeframe, hours: Hours, time: number): ScheduledBar | undefined => {
  const s = sessionOfBarTime(calendarId, tf, hours, time)
  if (s === undefined) return undefined
  return expectedBars(calendarId, tf, hours, s.open, s.close).find((b) => b.time === time)
}

/** The last scheduled bar before `t` (intraday: labelled before it; longer: ended by it), searching back ~2 months. */
export const barBefore = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  t: number,
  opts: ScheduleOptions = {}
): ScheduledBar | undefined => {
  for (const span of [4 * DAY_MS, 20 * DAY_MS, 70 * DAY_MS]) {
    const bars = expectedBars(calendarId, tf, hours, t - span, t, { headMs: opts.headMs })
    const before = bars.filter((b) => (tf.intraday ? b.time < t : b.end <= t))
    const last = before[before.length - 1]
    if (last) return last
  }
  return undefined
}

/** The first scheduled bar starting at or after `t`, searching ahead ~2 months. */
export const barFrom = (
  calendarId: CalendarId,
  tf: Timeframe,
  hours: Hours,
  t: number,
  opts: ScheduleOptions = {}
): ScheduledBar | undefined => {
  for (const span of [4 * DAY_MS, 20 * DAY_MS, 70 * DAY_MS]) {
    const first = expectedBars(calendarId, tf, hours, t, t + span, { headMs: opts.headMs }).find((b) => b.start >= t)
    if (first) return first
  }
  return undefined
}
