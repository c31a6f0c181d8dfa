/**
 * From missing intervals to IB historical requests. Every request is legal by IB's step table
 * (`stepAllowed`), returns exactly the scheduled bars of its `covers` window (the simulator's
 * semantics: `N D` = the last N sessions before the end, `N S` = clock seconds, a bucket belongs to a
 * window iff its label does), and the requests partition the missing bars — so nothing is
 * under-fetched (KTRDR's `30 days → "4 W"`) and nothing is fetched twice.
 *
 * Request shapes, and why the count is minimal for the table (each run of consecutive missing bars is
 * planned on its own — bars between runs are stored and are not re-fetched):
 * - below a minute, only `N S` is legal (N ≤ 1800/3600/14400/28800 for 1/5/15/30 s), and windows may
 *   run across closed time. A window starts at the first uncovered bar and takes every bar labelled
 *   within N seconds: points on a line covered by fixed-length windows, where the greedy window ends
 *   no earlier than any plan's first window, so by induction greedy uses the fewest.
 * - 1 min … 4 hours: `N D` windows start at a session's open and span up to K sessions (K = 1 for 1 min,
 *   7 for 5/15 min, 30 for 30 min … 4 h), ending at the last bar's end (which may be mid-session); a run
 *   that starts mid-session needs one `N S` window for its first session, since a `D` window would
 *   reach back over stored bars. S windows stay inside one session (clock seconds for partial
 *   sessions, where they are unambiguous; IB's session count for everything else). With these shapes a
 *   run of n sessions needs at least ⌈n/K⌉ requests, or 1 + ⌈(n−1)/K⌉ when its first session is
 *   partial (that session shares a window with nothing; every other window holds ≤ K sessions) —
 *   exactly what the planner produces. A lone partial session is one `N S` when legal, else `1 D`.
 * - 1 day, 1 week, 1 month: `N D` with N ≤ 365 (IB wants years beyond 365 days; 365 sessions exceed
 *   `1 Y` anyway), windows of whole bars filled greedily — contiguous blocks under a capacity, where
 *   greedy is optimal by the same exchange argument. Weekly bars need N ≥ 3 and monthly N ≥ 8: a short
 *   last block borrows bars from the block before it; a short lone block reaches back (before the head
 *   timestamp, where IB has nothing, or over one stored bar, re-fetched).
 */
import { calendarFor, type CalendarId, type Hours, type Session, type TradingCalendar } from "./calendar/index.ts"
import {
  barBefore,
  barFrom,
  countBars,
  firstBar,
  forEachBar,
  hoursFor,
  type Interval,
  type ScheduledBar
} from "./BarSchedule.ts"
import { formatIbUtc, parseBarSize, parseDuration, STEP_TABLE, stepAllowed } from "./IbHistoricalRules.ts"
import type { Timeframe } from "./Timeframe.ts"

export interface Segment {
  /** The request's end (epoch ms, whole seconds) and its `yyyyMMdd-HH:mm:ss` UTC form. */
  readonly endMs: number
  readonly end: string
  /** `N D` or `N S`. */
  readonly duration: string
  readonly barSize: string
  /** The request's window: it returns exactly the scheduled bars of [from, to). */
  readonly covers: Interval
  /** Scheduled bars in `covers`. */
  readonly bars: number
}

export interface PlanInput {
  readonly calendarId: CalendarId
  readonly timeframe: Timeframe
  readonly useRTH: boolean
  readonly missing: ReadonlyArray<Interval>
  readonly headTimestamp?: number | undefined
  readonly now: number
}

export interface DurationLimits {
  /** Legal session counts for `N D` (0/0 when D is illegal for the bar size); N ≤ 365. */
  readonly minSessions: number
  readonly maxSessions: number
  /** Legal `N S` (0/0 when S is illegal); N ≤ 86400, the most IB accepts in practice. */
  readonly minSeconds: number
  readonly maxSeconds: number
}

export const MAX_DAYS = 365
export const MAX_SECONDS = 86_400

const limitsCache = new Map<string, DurationLimits>()

export const durationLimits = (ibBarSize: string): DurationLimits => {
  const hit = limitsCache.get(ibBarSize)
  if (hit) return hit
  const bar = parseBarSize(ibBarSize)
  if (!bar) throw new RangeError(`unknown bar size ${JSON.stringify(ibBarSize)}`)
  const days: Array<number> = []
  for (let n = 1; n <= MAX_DAYS; n++) if (stepAllowed(parseDuration(`${n} D`)!, bar)) days.push(n)
  // S rows are contiguous ranges (previous row, row]; the table's bounds grow monotonically.
  let minS = 0
  let maxS = 0
  let prev = 0
  for (const [secs] of STEP_TABLE) {
    if (prev >= MAX_SECONDS) break
    if (stepAllowed(parseDuration(`${secs} S`)!, bar)) {
      if (minS === 0) minS = prev + 1
      maxS = Math.min(secs, MAX_SECONDS)
    }
    prev = secs
  }
  const limits = {
    minSessions: days[0] ?? 0,
    maxSessions: days[days.length - 1] ?? 0,
    minSeconds: minS,
    maxSeconds: maxS
  }
  limitsCache.set(ibBarSize, limits)
  return limits
}

interface Ctx {
  readonly cal: TradingCalendar
  readonly input: PlanInput
  readonly tf: Timeframe
  readonly hours: Hours
  readonly head: number
  readonly limits: DurationLimits
}

const SECOND = 1000

/** `bars` is known when the window is exactly the planned bars; fallbacks count their window. */
const segment = (ctx: Ctx, from: number, endMs: number, duration: string, bars?: number): Segment => {
  const d = parseDuration(duration)
  if (!d || !stepAllowed(d, parseBarSize(ctx.tf.ibBarSize)!) || endMs % SECOND !== 0) {
    throw new Error(`planner defect: illegal request ${duration} ${ctx.tf.ibBarSize} ending ${endMs}`)
  }
  const covers: Interval = [Math.max(from, ctx.head), endMs]
  const n = bars ?? countBars(ctx.input.calendarId, ctx.tf, ctx.hours, covers[0], covers[1], { headMs: ctx.head })
  return { endMs, end: formatIbUtc(endMs), duration, barSize: ctx.tf.ibBarSize, covers, bars: n }
}

const sSegment = (ctx: Ctx, from: number, end: number, bars?: number) =>
  segment(ctx, from, end, `${(end - from) / SECOND} S`, bars)

/** `N D` ending at `end`, starting at the open of `first`: N = sessions opening in [open, end). */
const dSegment = (ctx: Ctx, first: Session, end: number, minN = 1, bars?: number): Segment => {
  const n = ctx.cal.sessionsBetween(first.open, end, ctx.hours).filter((s) => s.open >= first.open).length
  if (n >= minN) return segment(ctx, first.open, end, `${n} D`, bars)
  const from = ctx.cal.previousSessions(end, minN, ctx.hours)[0]?.open ?? first.open
  return segment(ctx, from, end, `${minN} D`)
}

/**
 * Consecutive missing bars of one session (intraday) or one bar (daily and longer). Runs are kept as
 * pieces, not bars: a year of one-minute bars is a quarter of a million of them, and only the piece
 * ends matter to the shapes (sub-minute buckets are uniform inside a session, so they are arithmetic).
 */
interface Piece {
  readonly tradingDay: string
  readonly first: ScheduledBar
  last: ScheduledBar
  count: number
}

const sessionOf = (ctx: Ctx, piece: Piece): Session => ctx.cal.session(piece.tradingDay, ctx.hours)!
const barsIn = (pieces: ReadonlyArray<Piece>) => pieces.reduce((n, p) => n + p.count, 0)
const sessionsIn = (pieces: ReadonlyArray<Piece>) => pieces.reduce((n, p) => n + p.first.sessions, 0)

/**
 * One session's bars from mid-session, as clock seconds. When they are shorter than the bar size's
 * shortest legal S (4-hour bars need > 4 h), the window grows into closed time after them, then back
 * into the previous bar's span (whose bucket starts before the window, so it is not returned); failing
 * both, it becomes `1 D` and re-fetches the stored bars earlier in the session.
 */
const partialSession = (ctx: Ctx, piece: Piece): Segment => {
  const { minSeconds, maxSeconds } = ctx.limits
  const from = piece.first.start
  const end = piece.last.end
  if (end - from >= minSeconds * SECOND) return sSegment(ctx, from, end, piece.count)
  const opts = { headMs: ctx.head }
  const next = barFrom(ctx.input.calendarId, ctx.tf, ctx.hours, end, opts)
  const capEnd = Math.floor(Math.min(ctx.input.now, next?.start ?? Infinity) / SECOND) * SECOND
  const floorFrom = (barBefore(ctx.input.calendarId, ctx.tf, ctx.hours, from, opts)?.start ?? -Infinity) + SECOND
  const e = Math.min(capEnd, Math.max(end, from + minSeconds * SECOND))
  const f = Math.max(floorFrom, Math.min(from, e - minSeconds * SECOND))
  if (e - f >= minSeconds * SECOND && e - f <= maxSeconds * SECOND) return sSegment(ctx, f, e, piece.count)
  return dSegment(ctx, sessionOf(ctx, piece), end)
}

/** Greedy clock windows: from the first uncovered label, every bar labelled within maxSeconds. */
const planSubMinute = (ctx: Ctx, run: ReadonlyArray<Piece>): Array<Segment> => {
  const out: Array<Segment> = []
  const span = ctx.limits.maxSeconds * SECOND
  const size = ctx.tf.ms
  let k = 0
  let from = run[0]!.first.start
  while (k < run.length) {
    const limit = from + span
    let bars = 0
    let end = from
    while (k < run.length) {
      const p = run[k]!
      const start = Math.max(from, p.first.start)
      if (start >= limit) break
      const last = Math.min(p.last.start, start + Math.floor((limit - 1 - start) / size) * size)
      bars += (last - start) / size + 1
      end = last + size
      if (last < p.last.start) break
      k++
    }
    out.push(sSegment(ctx, from, end, bars))
    from = k < run.length ? Math.max(end, run[k]!.first.start) : end
  }
  return out
}

const planIntraday = (ctx: Ctx, pieces: ReadonlyArray<Piece>): Array<Segment> => {
  const out: Array<Segment> = []
  let i = 0
  if (pieces[0]!.first.start !== sessionOf(ctx, pieces[0]!).open) out.push(partialSession(ctx, pieces[i++]!))
  const k = ctx.limits.maxSessions
  for (; i < pieces.length; i += k) {
    const chunk = pieces.slice(i, i + k)
    const end = chunk[chunk.length - 1]!.last.end
    const session = sessionOf(ctx, chunk[0]!)
    const length = end - session.open
    // One partial session: clock seconds are unambiguous; otherwise IB's session count.
    if (
      chunk.length === 1 && end !== session.close && length >= ctx.limits.minSeconds * SECOND &&
      length <= ctx.limits.maxSeconds * SECOND
    ) {
      out.push(sSegment(ctx, session.open, end, chunk[0]!.count))
    } else out.push(dSegment(ctx, session, end, 1, barsIn(chunk)))
  }
  return out
}

const planPeriods = (ctx: Ctx, run: ReadonlyArray<Piece>): Array<Segment> => {
  const { minSessions, maxSessions } = ctx.limits
  const blocks: Array<Array<Piece>> = []
  let sum = 0
  for (const p of run) {
    const last = blocks[blocks.length - 1]
    if (last && sum + p.first.sessions <= maxSessions) {
      last.push(p)
      sum += p.first.sessions
    } else {
      blocks.push([p])
      sum = p.first.sessions
    }
  }
  const last = blocks[blocks.length - 1]!
  const before = blocks[blocks.length - 2]
  while (before && before.length > 1 && sessionsIn(last) < minSessions) last.unshift(before.pop()!)
  // A block reaching back for the N D minimum covers more than its bars: dSegment counts those.
  return blocks.map((bs) =>
    dSegment(
      ctx,
      sessionOf(ctx, bs[0]!),
      bs[bs.length - 1]!.last.end,
      minSessions,
      sessionsIn(bs) >= minSessions ? bs.length : undefined
    )
  )
}

/** The missing bars to fetch, as runs of consecutive scheduled bars grouped in pieces. */
/**
 * The missing bars as runs of adjacent pieces. Walked window by window (intraday bars belong to the
 * window holding their time, and the walk's state carries over), yielding between windows so a caller
 * can keep the event loop responsive over years of 1-minute bars.
 */
function* runsOfSteps(ctx: Ctx, windowMs: number): Generator<void, Array<Array<Piece>>> {
  const { input, tf, hours, head } = ctx
  const clamped = input.missing
    .map(([a, b]): Interval => [Math.max(a, head), Math.min(b, input.now)])
    .filter(([a, b]) => a < b)
    .sort((x, y) => x[0] - y[0])
  const merged: Array<[number, number]> = []
  for (const [a, b] of clamped) {
    const last = merged[merged.length - 1]
    if (last && a <= last[1]) last[1] = Math.max(last[1], b)
    else merged.push([a, b])
  }
  const runs: Array<Array<Piece>> = []
  const step = tf.intraday ? windowMs : Infinity
  const visit = (bar: ScheduledBar) => {
    const run = runs[runs.length - 1]
    const piece = run?.[run.length - 1]
    // Daily and longer bars belong to every interval their sessions overlap: keep one copy.
    if (piece && bar.time <= piece.last.time) return
    const adjacent = piece &&
      (piece.last.end === bar.start ||
        firstBar(input.calendarId, tf, hours, piece.last.end, bar.start, { headMs: head }) === undefined)
    if (!run || !adjacent) runs.push([{ tradingDay: bar.tradingDay, first: bar, last: bar, count: 1 }])
    else if (tf.intraday && piece.tradingDay === bar.tradingDay) {
      piece.last = bar
      piece.count++
    } else run.push({ tradingDay: bar.tradingDay, first: bar, last: bar, count: 1 })
  }
  for (const [a, b] of merged) {
    for (let w = a; w < b; w += step) {
      forEachBar(input.calendarId, tf, hours, w, Math.min(b, w + step), { headMs: head, now: input.now }, visit)
      yield
    }
  }
  return runs
}

/** `planSegments` in steps of `windowMs` of calendar time (see runsOfSteps); the same segments. */
export function* planSegmentsStepwise(input: PlanInput, windowMs: number): Generator<void, ReadonlyArray<Segment>> {
  const tf = input.timeframe
  const ctx: Ctx = {
    cal: calendarFor(input.calendarId),
    input,
    tf,
    hours: hoursFor(input.useRTH),
    head: input.headTimestamp ?? -Infinity,
    limits: durationLimits(tf.ibBarSize)
  }
  const plan = tf.kind !== "intraday" ? planPeriods : tf.ms < 60_000 ? planSubMinute : planIntraday
  const runs = yield* runsOfSteps(ctx, windowMs)
  return runs.flatMap((run) => plan(ctx, run))
}

export const planSegments = (input: PlanInput): ReadonlyArray<Segment> => {
  const g = planSegmentsStepwise(input, Infinity)
  for (;;) {
    const r = g.next()
    if (r.done) return r.value
  }
}
