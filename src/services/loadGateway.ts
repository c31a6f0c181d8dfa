/** How a load deals with the gateway: which failures it retries, on what schedule, and how it waits. */
import { Clock, Effect, Schedule } from "effect"
import { UNREACHABLE_CODE, waitingStep } from "../domain/gatewayHelp.ts"
import type { LoadError, LoadProgress } from "../domain/loadTypes.ts"
import type { GatewayWaitPolicy } from "../layers/gatewayWait.ts"
import type { LoadAccounting } from "./loadAccounting.ts"

/**
 * Retryable failures (connectivity, timeout) of any request of a load — symbol lookup, head timestamp and
 * segments alike — are retried on this schedule after the connection recovers.
 */
export const loadRetry = Schedule.exponential("1 second", 2).pipe(
  Schedule.union(Schedule.spaced("30 seconds")),
  Schedule.jittered,
  Schedule.intersect(Schedule.recurs(5))
)

/**
 * Retried: retryable gateway failures but pacing (IbClient retries those itself), and — until this load
 * has reached the gateway once — not "unreachable" (502): a load that never got through fails fast with
 * the reason; a gateway that drops mid-load is waited for.
 */
export const retryWhile = (acct: LoadAccounting) => (e: LoadError) =>
  e._tag !== "IbError" || !e.retryable || e.category === "pacing"
    ? Effect.succeed(false)
    : e.code === UNREACHABLE_CODE
    ? acct.reached
    : Effect.succeed(true)

/**
 * While a load waits for the gateway its progress says so ("waiting for gateway: attempt 3, next try in
 * 8 s"), never a stale percentage; once the gateway is back it says again what it was doing.
 */
export const waitPolicy = (
  progress: (p: Pick<LoadProgress, "phase" | "step">) => Effect.Effect<void>,
  current: () => LoadProgress
): GatewayWaitPolicy => {
  let beforeWait: LoadProgress | undefined
  return {
    onWaiting: (w) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (w === null) {
          const back = beforeWait
          beforeWait = undefined
          return back === undefined ? Effect.void : progress({ phase: back.phase, step: back.step })
        }
        beforeWait ??= current()
        return progress({ phase: "waiting_for_gateway", step: waitingStep(w.attempt, w.nextAttemptAt, now) })
      })
  }
}
