/**
 * Gap analysis: stored bar times against the expected-bar schedule of the instrument's real calendar.
 *
 * KTRDR decided "fetch or not" by looking for a weekend day anywhere in a gap of ≤ 7 days (so after
 * Friday's last bar, tail mode fetched nothing until the following week) and by US holiday lists
 * applied to every market (ktrdr-data-layer.md §3.5, §4, §8.2). Here nothing is guessed: a bar is
 * missing iff the calendar schedules it, it has ended by `now`, and the store does not have it. The
 * classification keeps KTRDR's names: runs of missing bars inside the stored range are `unexpected`;
 * runs before the first or after the last stored bar are `not_loaded` (nobody asked for them yet: they
 * are neither a closure nor a completeness problem — KTRDR called a tail load's unloaded history a
 * 58-day "market closure"); `market_closure` is never guessed from missing bars, since the calendar
 * knows when the exchange was closed. On request, closed spans between scheduled bars are
 * explained as `expected_holiday`, `expected_weekend` or `expected_trading_hours` from the calendar's
 * own closure reasons (a holiday wins over the weekend it extends, unlike KTRDR's weekend-first rule).
 * Stored bars the schedule does not have (extended-hours bars in a file analysed for RTH, say) fill
 * nothing and open no gap; they are only counted.
 */
import { IANAZone } from "luxon"
import { DAY_MS, firstBar, forEachBar, type Interval, type ScheduledBar } from "./BarSchedule.ts"
import { calendarFor, dayOfEpochDay, type CalendarId, type Hours } from "./calendar/index.ts"
import type { Timeframe } from "./Timeframe.ts"

export type GapClass =
  | "unexpected"
  | "not_loaded"
  | "market_closure"
  | "expected_holiday"
  | "expected_trading_hours"
  | "expected_weekend"

export type { Interval }

export interface Gap {
  /** First instant of the gap: the first missing bar's start, or the end of trading before a closure. */
  readonly start: number
  /** Exclusive end: the last missing bar's end, or the next opening. */
  readonly end: number
  readonly classification: GapClass
  readonly barsMissing: number
  /** Trading sessions with missing bars: what a load has to fetch (0 for an explained closure). */
  readonly sessions: number
  readonly durationHours: number
  /** KTRDR's note texts (ktrdr-data-layer.md §4.5). */
  readonly note: string
}

export interface GapInput {
  /** Stored bar times, ascending epoch ms (the store's convention: 00:00Z of the day for 1d and longer). */
  readonly stored: ArrayLike<number>
  readonly calendarId: CalendarId
  readonly timeframe: Timeframe
  readonly hours: Hours
  /** The range, [from, to) (see BarSchedule for how bars belong to it). */
  readonly from: number
  readonly to: number
  /** Bars that have not ended by `now` are not expected yet. */
  readonly now: number
  readonly headMs?: number | undefined
  /** Also list closed spans (weekends, holidays, nights) between scheduled bars, as KTRDR's verbose mode. */
  readonly includeExpected?: boolean | undefined
}

export interface GapAnalysis {
  readonly expectedBars: number
  /** Stored bars that are scheduled. */
  readonly presentBars: number
  readonly missingBars: number
  /** Of `missingBars`, those before the first or after the last stored bar (`not_loaded` runs). */
  readonly notLoadedBars: number
  /**
   * Stored bars in [from, to) the schedule does not have (or that are still forming); ignored for gaps and
   * completeness.
   */
  readonly unscheduledBars: number
  /**
   * present ÷ (expected − not loaded) × 100, over the stored range: unloaded history is not incomplete
   * data; 100 when nothing is expected there.
   */
  readonly completenessPct: number
  /** Trading sessions with missing bars (a weekly or monthly bar counts its sessions). */
  readonly missingSessions: number
  /** Runs of missing bars, plus explained closures when `includeExpected`, ascending. */
  readonly gaps: ReadonlyArray<Gap>
  /** What a load must fetch: one [first missing start, last missing end) per run of missing bars. */
  readonly missing: ReadonlyArray<Interval>
  /** Start of the first and end of the last scheduled bar in the range; null when none is scheduled. */
  readonly scheduled: Interval | null
}

const HOUR_MS = 3_600_000

const hours1 = (ms: number) => (ms / HOUR_MS).toFixed(1)

const noteFor = (c: GapClass, tf: Timeframe, ms: number): string => {
  switch (c) {
    case "expected_weekend":
      return `Weekend gap for ${tf.id} data - normal market closure`
    case "expected_trading_hours":
      return `Gap outside trading hours for ${tf.id} data - normal non-market period`
    case "expected_holiday":
      return `Holiday gap (${hours1(ms)}h) - exchange closed`
    case "market_closure":
      return `Extended market closure (${(ms / DAY_MS).toFixed(1)} days) - investigate broker/exchange`
    case "unexpected":
      return `Unexpected gap (${hours1(ms)}h) during trading period - needs investigation`
    case "not_loaded":
      return `Not loaded (${hours1(ms)}h outside the stored range) - load it to analyse it`
  }
}

const gap = (
  tf: Timeframe,
  start: number,
  end: number,
  classification: GapClass,
  barsMissing: number,
  sessions: number
): Gap => ({
  start,
  end,
  classification,
  barsMissing,
  sessions,
  durationHours: (end - start) / HOUR_MS,
  note: noteFor(classification, tf, end - start)
})

/** Why the exchange is closed over [start, end): a holiday in it wins, then a weekend day, else the night/halt. */
export const closedSpanClass = (calendarId: CalendarId, start: number, end: number): GapClass => {
  const cal = calendarFor(calendarId)
  const zone = IANAZone.create(cal.timeZone)
  const localDay = (ms: number) => Math.floor((ms + zone.offset(ms) * 60_000) / DAY_MS)
  let weekend = false
  for (let d = localDay(start); d <= localDay(end - 1); d++) {
    const reason = cal.closedReason(dayOfEpochDay(d))?.reason
    if (reason === "holiday") return "expected_holiday"
    if (reason === "weekend") weekend = true
  }
  return weekend ? "expected_weekend" : "expected_trading_hours"
}

/**
 * KTRDR's `classify_gap` made calendar-true: a span that wholly contains a scheduled bar (ended by
 * `now`, when given) is `unexpected` (whatever its length: the exchange was open); any other span is explained by
 * `closedSpanClass`. Containment, not overlap, so a span from Friday 16:00Z to Monday 09:30Z between
 * two daily bars is a weekend although it clips Friday's session.
 */
export const classifyGap = (
  calendarId: CalendarId,
  timeframe: Timeframe,
  hours: Hours,
  start: number,
  end: number,
  opts: { readonly now?: number | undefined; readonly headMs?: number | undefined } = {}
): GapClass => {
  let contained = false
  forEachBar(calendarId, timeframe, hours, start, end, opts, (b) => !(contained = b.start >= start && b.end <= end))
  if (contained) return "unexpected"
  return closedSpanClass(calendarId, start, end)
}

interface Run {
  readonly first: ScheduledBar
  last: ScheduledBar
  bars: number
  sessions: number
}

export const analyzeGaps = (input: GapInput): GapAnalysis => {
  const { stored, timeframe: tf } = input
  const opts = { now: input.now, headMs: input.headMs }
  const gaps: Array<Gap> = []
  const missing: Array<Interval> = []
  let expected = 0
  let present = 0
  let notLoaded = 0
  // The stored range: runs of missing bars outside it have simply not been loaded.
  const storedFirst = stored.length > 0 ? stored[0]! : Infinity
  const storedLast = stored.length > 0 ? stored[stored.length - 1]! : -Infinity
  let presentInRange = 0
  let missingSessions = 0
  let lastMissingDay = ""
  let run: Run | undefined
  let prev: ScheduledBar | undefined
  let firstStart: number | undefined
  let i = -1
  const closeRun = () => {
    if (!run) return
    const r = run
    run = undefined
    const outside = r.last.time < storedFirst || r.first.time > storedLast
    const c: GapClass = outside ? "not_loaded" : "unexpected"
    if (outside) notLoaded += r.bars
    gaps.push(gap(tf, r.first.start, r.last.end, c, r.bars, r.sessions))
    missing.push([r.first.start, r.last.end])
  }
  // KTRDR reports spacings above 1.5 × the timeframe; here only closed time can make one.
  const closedSpan = (start: number, end: number, spacing: number) => {
    if (input.includeExpected && end > start && spacing > 1.5 * tf.ms) {
      gaps.push(gap(tf, start, end, closedSpanClass(input.calendarId, start, end), 0, 0))
    }
  }
  forEachBar(input.calendarId, tf, input.hours, input.from, input.to, opts, (b) => {
    expected++
    firstStart ??= b.start
    // Both sequences ascend: one merge walk matches them.
    if (i < 0) i = lowerBound(stored, b.time)
    while (i < stored.length && stored[i]! < b.time) i++
    const stored_ = i < stored.length && stored[i] === b.time
    // A closed span inside a run of missing bars is part of that run's listing: never list both.
    if (!(run && !stored_)) closedSpan(prev ? prev.end : input.from, b.start, b.time - (prev ? prev.time : input.from))
    prev = b
    if (stored_) {
      present++
      if (b.time >= input.from && b.time < input.to) presentInRange++
      closeRun()
      return
    }
    // Intraday bars share sessions; a weekly or monthly bar spans several.
    const sessions = tf.intraday ? (b.tradingDay !== lastMissingDay ? 1 : 0) : b.sessions
    lastMissingDay = b.tradingDay
    missingSessions += sessions
    if (!run) run = { first: b, last: b, bars: 1, sessions: Math.max(1, sessions) }
    else {
      run.last = b
      run.bars++
      run.sessions += sessions
    }
  })
  closeRun()
  // The trailing span ends at the range's end, `now`, or a bar still forming — whichever comes first.
  const tailStart = prev ? prev.end : input.from
  const forming = firstBar(input.calendarId, tf, input.hours, tailStart, input.to, { headMs: input.headMs })
  const tailEnd = Math.min(input.to, input.now, forming?.start ?? Infinity)
  closedSpan(tailStart, tailEnd, tailEnd - (prev ? prev.time : input.from))
  gaps.sort((a, b) => a.start - b.start)
  return {
    expectedBars: expected,
    presentBars: present,
    missingBars: expected - present,
    notLoadedBars: notLoaded,
    unscheduledBars: countRange(stored, input.from, input.to) - presentInRange,
    completenessPct: expected - notLoaded === 0 ? 100 : (present / (expected - notLoaded)) * 100,
    missingSessions,
    gaps,
    missing,
    scheduled: prev && firstStart !== undefined ? [firstStart, prev.end] : null
  }
}

/**
 * The [from, to) ranges a load must fetch: one per run of missing scheduled bars, never starting or ending in closed
 * time.
 */
export const missingIntervals = (input: Omit<GapInput, "includeExpected">): ReadonlyArray<Interval> =>
  analyzeGaps({ ...input, includeExpected: false }).missing

const lowerBound = (xs: ArrayLike<number>, x: number): number => {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

const countRange = (xs: ArrayLike<number>, from: number, to: number): number =>
  lowerBound(xs, to) - lowerBound(xs, from)
