/**
 * Honest request counters for one load (issue 11): every request that reached the gateway is counted —
 * the retries DataManager makes after a dropped connection and the ones IbClient makes by itself after a
 * pacing violation alike — and every retry is counted with the reason of the failure it answered.
 */
import { Effect, Ref } from "effect"
import { RequestLog, type RequestEvent } from "../layers/requestLog.ts"

export interface LoadCounts {
  /** Historical requests sent, retries included. */
  readonly historical: number
  /** Contract-details and head-timestamp requests sent, retries included. */
  readonly lookups: number
  /** Requests sent again after a failure. */
  readonly retried: number
  /** Retries by the category of the failure that caused them (pacing, connectivity, timeout, …). */
  readonly retryReasons: Readonly<Record<string, number>>
}

export interface LoadAccounting {
  /**
   * Runs one logical request (with all its retries) and counts what reached the wire: every failure
   * followed by another send of the same logical request is one retry, for that failure's reason.
   */
  readonly track: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** True once any request of this load reached the gateway. */
  readonly reached: Effect.Effect<boolean>
  readonly counts: Effect.Effect<LoadCounts>
}

export const makeAccounting: Effect.Effect<LoadAccounting> = Effect.gen(function*() {
  const totals = yield* Ref.make<LoadCounts>({ historical: 0, lookups: 0, retried: 0, retryReasons: {} })

  const track = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      // The previous send's outcome of this logical request: a new send after a failure is a retry.
      let previous: RequestEvent["outcome"] | null = null
      const listener = (e: RequestEvent) =>
        Ref.update(totals, (t) => {
          // "No security definition" moves a lookup on to the symbol's next kind: a new question, not a retry.
          const retry = previous !== null && previous !== "ok" && previous !== "no-security-definition"
          const reason = retry ? String(previous) : null
          previous = e.outcome
          return {
            historical: t.historical + (e.kind === "historical" ? 1 : 0),
            lookups: t.lookups + (e.kind === "contractDetails" || e.kind === "headTimestamp" ? 1 : 0),
            retried: t.retried + (retry ? 1 : 0),
            retryReasons: reason === null ? t.retryReasons : {
              ...t.retryReasons,
              [reason]: (t.retryReasons[reason] ?? 0) + 1
            }
          }
        })
      return Effect.locally(self, RequestLog, listener)
    })

  const counts = Ref.get(totals)
  return {
    track,
    reached: Effect.map(counts, (c) => c.historical + c.lookups > 0),
    counts
  }
})

/** Counts of two parts of one load (its steps run apart, e.g. on different runners) as one. */
export const addCounts = (a: LoadCounts, b: LoadCounts): LoadCounts => {
  const reasons: Record<string, number> = { ...a.retryReasons }
  for (const [k, v] of Object.entries(b.retryReasons)) reasons[k] = (reasons[k] ?? 0) + v
  return {
    historical: a.historical + b.historical,
    lookups: a.lookups + b.lookups,
    retried: a.retried + b.retried,
    retryReasons: reasons
  }
}

export const noCounts: LoadCounts = { historical: 0, lookups: 0, retried: 0, retryReasons: {} }
