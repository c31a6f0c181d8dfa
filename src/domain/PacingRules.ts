/**
 * IB's historical-data pacing rules (tws-protocol.md §5.1) as a pure planner: given the send times
 * already reserved, when may the next request go? For bars of 30 s or less ("small"), IB rejects
 *   1. an identical request within 15 s,
 *   2. 6 or more requests for one contract+exchange+tick type within 2 s (so at most 5 in any 2 s),
 *   3. more than 60 requests in any 10 minutes,
 * with BID_ASK weighing 2 in (2) and (3). Larger bars are only kept `largeBarSpacingMs` apart — our own
 * soft throttle, not an IB window — unless `paceAllSizes` applies IB's rules to them too. Every request
 * is also kept `sendSpacingMs` from every other, so it reaches the wire when planned.
 *
 * The windows mean what the simulator (`src/sim/pacing.ts`) means: a request that *reaches the gateway*
 * at t counts against one reaching it at u while |u - t| < window / timeScale. We never know that
 * instant, only bounds on it: not before we sent the request (`t`) and not after its answer came back
 * (`until`). Between the two lie our client library's send queue (@stoqey/ib writes 40 messages/s and
 * queues the rest behind contract-detail and head-timestamp requests), a busy event loop and the
 * network: measured up to 640 ms with 20 loads starting at once, more than any fixed margin we had. So
 * every rule is kept for the worst case: an earlier request counts as if it arrived at its `until`, a
 * later one as if at its `t`. Reservations may lie in the future, and a new request may be slotted
 * *between* them, so every rule is checked in both directions, not just against the past.
 */

import { type BarSize, isSmallBar } from "./IbHistoricalRules.ts"

/** One historical request as pacing sees it. */
export interface PaceRequest {
  /** Everything that makes two requests "identical" (contract, end, duration, bar size, RTH, …). */
  readonly identity: string
  /** Contract + exchange + tick type: the key of the burst rule. */
  readonly contract: string
  /** 2 for BID_ASK, else 1. */
  readonly weight: 1 | 2
  /** Bar size of 30 s or less: the only requests IB's rules cover. */
  readonly small: boolean
}

/** What pacing needs of a historical request (IbClient's HistoricalRequest, structurally). */
export interface HistoricalRequestKey {
  readonly contract: {
    readonly conId?: number | undefined
    readonly symbol?: string | undefined
    readonly localSymbol?: string | undefined
    readonly secType?: string | undefined
    readonly exchange?: string | undefined
  }
  readonly end: number | "now"
  readonly duration: string
  readonly whatToShow: string
  readonly useRTH: boolean
}

/**
 * The one place a historical request becomes a PaceRequest (IbClient and RemoteIb both use it, so the
 * host's gate and a remote process's gate agree). ADJUSTED_LAST is TRADES adjusted for splits: the same
 * tick type as far as we can tell (the simulator says so), so it shares TRADES' keys — treating the two as
 * one can only make a request wait, never break a rule.
 */
export const paceRequestOf = (r: HistoricalRequestKey, bar: BarSize): PaceRequest => {
  const c = r.contract
  const tick = r.whatToShow === "ADJUSTED_LAST" ? "TRADES" : r.whatToShow
  const contract = `${c.conId ?? ""}|${c.symbol ?? ""}|${c.localSymbol ?? ""}|${c.secType ?? ""}|${
    (c.exchange ?? "").toUpperCase()
  }|${tick}`
  return {
    identity: [contract, r.end, r.duration, bar.ib, r.useRTH].join("|"),
    contract,
    weight: r.whatToShow === "BID_ASK" ? 2 : 1,
    small: isSmallBar(bar)
  }
}

/**
 * A request with the time it was (or is reserved to be) sent, `t`, and the latest time the gateway can
 * have received it, `until` (default `t`). The gate supplies `until`: the answer's arrival once known; for a
 * request still in flight, no earlier than now.
 */
export interface PaceEntry extends PaceRequest {
  readonly t: number
  readonly until?: number | undefined
}

/** The latest instant the gateway can have seen `e`. */
export const untilOf = (e: PaceEntry): number => Math.max(e.t, e.until ?? e.t)

/** Why a request waits: one of IB's three rules, one of our two spacings, or the in-flight cap (gate only). */
export type PaceReason = "identical" | "burst" | "window" | "spacing" | "in-flight"
export type PlanReason = Exclude<PaceReason, "in-flight">

export interface PacingParams {
  /** Divides IB's windows (for simulators started with the same --time-scale). */
  readonly timeScale: number
  /** Minimum gap between two large-bar requests, real ms (not scaled: it is ours, not IB's). */
  readonly largeBarSpacingMs: number
  /**
   * Minimum gap between any two requests, real ms. A client library that rate-limits its socket writes
   * (@stoqey/ib: 40 msg/s) would otherwise queue a burst and put requests on the wire later than planned,
   * by more than any margin; IB itself caps messages at 50/s.
   */
  readonly sendSpacingMs: number
  /** Apply IB's rules to every bar size (simulator mode "all"). */
  readonly paceAllSizes: boolean
  /** Real ms added to every IB window, so jitter cannot turn a boundary case into a violation. */
  readonly marginMs: number
}

/** Where and why: `reason` is the rule that set `at`, undefined when the request may go at `now`. */
export interface PaceSlot {
  readonly at: number
  readonly reason: PlanReason | undefined
}

export const IDENTICAL_WINDOW_MS = 15_000
export const BURST_WINDOW_MS = 2_000
/** Most weight allowed for one contract in any burst window (IB: "6 or more" violates). */
export const BURST_MAX = 5
export const LONG_WINDOW_MS = 600_000
/** Most weight allowed in any long window (IB: "more than 60" violates). */
export const LONG_MAX = 60

/**
 * The delay between our send and the gateway's receipt no longer needs a margin: `t`..`until` bound it
 * (a fixed 500 ms margin used to stand in for it, and a cold start with 20 loads outran it — 640 ms).
 * What the margin still covers is the gateway's own bookkeeping, which we cannot see: a real IB server
 * may stamp a request a little after it reads it, or round. The cost is small where it matters: the
 * 10 min rule (60 requests) bounds real throughput, and 500 ms on it is 0.08%.
 */
export const DEFAULT_MARGIN_MS = 500

export const defaultPacingParams = (overrides: Partial<PacingParams> = {}): PacingParams => ({
  timeScale: 1,
  largeBarSpacingMs: 0,
  sendSpacingMs: 0,
  paceAllSizes: false,
  marginMs: DEFAULT_MARGIN_MS,
  ...overrides
})

/** The effective (scaled, margined) windows the planner keeps. */
export const effectiveWindows = (p: PacingParams) => ({
  identical: IDENTICAL_WINDOW_MS / p.timeScale + p.marginMs,
  burst: BURST_WINDOW_MS / p.timeScale + p.marginMs,
  long: LONG_WINDOW_MS / p.timeScale + p.marginMs
})

/** How far back an entry can still constrain a request sent now or later. */
export const historyHorizonMs = (p: PacingParams, e?: Pick<PaceRequest, "small">): number => {
  const spacing = Math.max(p.largeBarSpacingMs, p.sendSpacingMs)
  // An entry outside IB's rules only matters for the spacings: keep it that long, not 10 minutes, so a
  // stream of large-bar requests cannot grow the history into the thousands.
  if (e !== undefined && !e.small && !p.paceAllSizes) return spacing
  const w = effectiveWindows(p)
  return Math.max(w.identical, w.burst, w.long, spacing)
}

/** Drops entries that can no longer constrain any request at `now` or later. Keeps order. */
export const pruneHistory = <E extends PaceEntry>(
  history: ReadonlyArray<E>,
  now: number,
  p: PacingParams
): Array<E> => {
  const paced = historyHorizonMs(p)
  const unpaced = historyHorizonMs(p, { small: false })
  return history.filter((e) => now - untilOf(e) < (e.small ? paced : unpaced))
}

/** Send times u in the open interval (lo, hi) break `reason`. */
interface Block {
  readonly lo: number
  readonly hi: number
  readonly reason: PlanReason
}

/**
 * Pairwise rules (identical, spacing): u must be at least `gap` before an entry's `t` or after its `until`.
 * The spacings pass points (`until` = `t`): they are about when we send, not when the gateway sees it.
 */
const pairwise = (
  es: ReadonlyArray<{ readonly t: number; readonly until?: number | undefined }>,
  gap: number,
  reason: PlanReason,
  out: Array<Block>
): void => {
  if (gap <= 0) return
  for (const e of es) out.push({ lo: e.t - gap, hi: Math.max(e.t, e.until ?? e.t) + gap, reason })
}

/**
 * Counting rules (burst, window). Let S(x) be the weight that may count in a window ending at x: an entry
 * does from its `t` (it cannot have arrived earlier) until `until + window` (it may have arrived as late
 * as `until`). A request of weight w at u adds w to S on [u, u + window), so u is allowed iff that range
 * misses every "crowded" stretch [a, b) where S > max - w — i.e. u <= a - window or u >= b. Checking
 * every x, not only x at or before u, is what keeps a request slotted before future reservations from
 * overfilling their windows.
 */
const counting = (
  entries: ReadonlyArray<PaceEntry>,
  window: number,
  max: number,
  w: number,
  reason: PlanReason,
  out: Array<Block>
): void => {
  const limit = max - w
  let total = 0
  for (const e of entries) total += e.weight
  if (total <= limit) return // cannot be crowded anywhere: the common case, no sort needed
  const events: Array<readonly [number, number]> = []
  for (const e of entries) events.push([e.t, e.weight], [untilOf(e) + window, -e.weight])
  events.sort((a, b) => a[0] - b[0])
  let s = 0
  let start: number | undefined
  for (let i = 0; i < events.length;) {
    const pos = events[i]![0]
    // Apply every event at one position before judging the stretch that starts there.
    while (i < events.length && events[i]![0] === pos) s += events[i++]![1]
    if (s > limit && start === undefined) start = pos
    else if (s <= limit && start !== undefined) {
      out.push({ lo: start - window, hi: pos, reason })
      start = undefined
    }
  }
}

/**
 * The earliest time `at >= now` at which sending `req` breaks no rule against `history`, and the rule
 * that bound it. Exact for the margined windows: it never waits past the first allowed instant.
 * O(n log n) in the history size.
 */
export const earliestSlot = (
  history: ReadonlyArray<PaceEntry>,
  req: PaceRequest,
  now: number,
  p: PacingParams
): PaceSlot => {
  const blocks: Array<Block> = []
  if (p.paceAllSizes || req.small) {
    const w = effectiveWindows(p)
    // In strict mode the gateway neither checks nor records large-bar requests.
    const counted = p.paceAllSizes ? history : history.filter((e) => e.small)
    pairwise(counted.filter((e) => e.identity === req.identity), w.identical, "identical", blocks)
    counting(counted.filter((e) => e.contract === req.contract), w.burst, BURST_MAX, req.weight, "burst", blocks)
    counting(counted, w.long, LONG_MAX, req.weight, "window", blocks)
  }
  const sent = (es: ReadonlyArray<PaceEntry>) => es.map((e) => ({ t: e.t }))
  if (!req.small) pairwise(sent(history.filter((e) => !e.small)), p.largeBarSpacingMs, "spacing", blocks)
  pairwise(sent(history), p.sendSpacingMs, "spacing", blocks)

  // One sweep in order of `lo` finds the first point outside every open block: a block skipped because
  // at <= lo stays ahead of at (later blocks start no earlier), and one already passed stays behind.
  const live = blocks.filter((b) => b.hi > now) // the rest end before now: skip them before sorting
  live.sort((a, b) => a.lo - b.lo)
  let at = now
  let reason: PlanReason | undefined
  for (const b of live) {
    if (b.lo < at && at < b.hi) {
      at = b.hi
      reason = b.reason
    }
  }
  return { at, reason }
}
