/**
 * Giving the event loop a turn during long CPU work. Effect.yieldNow only lets other fibers run (the
 * scheduler batches them on microtasks), while sockets and timers — the HTTP requests a long encode
 * or analysis would delay — wait for the event loop itself: a setImmediate macrotask.
 */
import { Effect } from "effect"

export const yieldToLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  const h = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(h))
})

/** Drives a stepwise computation (a generator yielding between steps), with an event-loop turn at each yield. */
export const stepwise = <A>(g: Generator<void, A>): Effect.Effect<A> =>
  Effect.suspend(function loop(): Effect.Effect<A> {
    const r = g.next()
    return r.done ? Effect.succeed(r.value) : Effect.zipRight(yieldToLoop, Effect.suspend(loop))
  })
