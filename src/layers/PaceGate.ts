/**
 * Client-side pacing for IB historical requests: every request reserves a send time that breaks none of
 * IB's rules (src/domain/PacingRules.ts), sleeps until then, and runs holding one of `maxInFlight` slots.
 * Reserving is atomic, so concurrent callers get distinct slots and sleep exactly until theirs — no
 * thundering herd of fibers re-checking the rules on every wake-up.
 *
 * Requests under IB's rules also hold one of `maxInFlight` "lanes" from reserving until sending. A
 * reservation commits everyone planned after it, so a request that cannot send on time (all in-flight
 * slots busy) must re-plan behind them and leaves its slot unused; bounding the reservations ahead to the
 * in-flight capacity keeps that loss to a few slots instead of whole 10-minute windows. Lanes are not the
 * in-flight slots themselves, so large-bar requests keep flowing while small-bar ones sleep on a window.
 */
import { Clock, Context, Duration, Effect, Either, Layer, Option, PubSub, Ref, Stream, SynchronizedRef } from "effect"
import {
  DEFAULT_MARGIN_MS,
  earliestSlot,
  pruneHistory,
  type PaceEntry,
  type PaceReason,
  type PaceRequest,
  type PaceSlot,
  type PacingParams
} from "../domain/PacingRules.ts"
import { IbConfig } from "./Config.ts"

export type { PaceReason, PaceRequest } from "../domain/PacingRules.ts"

/**
 * One wait a request went through. Pacing waits are reported when they start (ms planned), in-flight waits when they
 * end.
 */
export interface PaceWait {
  readonly reason: PaceReason
  readonly ms: number
  readonly contract: string
}

export interface PaceStats {
  /** Waits so far (a request may wait more than once: pacing, then for a slot). */
  readonly waits: number
  readonly totalWaitMs: number
  readonly byReason: Readonly<Record<PaceReason, number>>
  /** Requests running `use` now. */
  readonly inFlight: number
  /** Requests admitted to `run` that have not started `use` yet. */
  readonly queued: number
}

export interface PaceGateOptions {
  /** Apply IB's rules to every bar size, matching a simulator in pacing mode "all". Default false. */
  readonly paceAllSizes?: boolean
  /** Real ms added to every IB window; default DEFAULT_MARGIN_MS (500). */
  readonly marginMs?: number
  /** Minimum real ms between any two requests; default DEFAULT_SEND_SPACING_MS (35). */
  readonly sendSpacingMs?: number
}

/**
 * ibSession creates IBApi with maxReqPerSec 40, which lets 4 messages out per 100 ms and queues the rest.
 * 25 ms apart would saturate that and let timer slop pile up into a queue (measured: 100-300 ms late under
 * load); 35 ms leaves room for slop and the odd other message, so requests reach the wire when planned.
 */
export const DEFAULT_SEND_SPACING_MS = 35

export interface PaceGateService {
  /** Waits (interruptibly) until `req` may be sent, then runs `use` holding one of the in-flight slots. */
  readonly run: <A, E, R>(req: PaceRequest, use: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly stats: Effect.Effect<PaceStats>
  /** One event per wait; subscribers see the waits that happen after they subscribe. */
  readonly waits: Stream.Stream<PaceWait>
}

export class PaceGate extends Context.Tag("ktrdr/PaceGate")<PaceGate, PaceGateService>() {
  /** Builds the service from IbConfig plus options the config file does not carry (yet). */
  static readonly make = (options: PaceGateOptions = {}): Effect.Effect<PaceGateService, never, IbConfig> =>
    Effect.suspend(() => makePaceGate(options))
  static readonly layerWith = (options: PaceGateOptions): Layer.Layer<PaceGate, never, IbConfig> =>
    Layer.effect(PaceGate, PaceGate.make(options))
  static readonly layer: Layer.Layer<PaceGate, never, IbConfig> = Layer.effect(PaceGate, PaceGate.make())
}

const emptyByReason = (): Record<PaceReason, number> => ({
  identical: 0,
  burst: 0,
  window: 0,
  spacing: 0,
  "in-flight": 0
})

/** What an in-progress `run` holds, so interruption can give back exactly that. */
interface Ticket {
  entry: PaceEntry | undefined
  lane: boolean
  sent: boolean
}

const makePaceGate = (options: PaceGateOptions): Effect.Effect<PaceGateService, never, IbConfig> =>
  Effect.gen(function*() {
    const cfg = yield* IbConfig
    const params: PacingParams = {
      timeScale: cfg.pacingTimeScale,
      largeBarSpacingMs: Duration.toMillis(cfg.largeBarSpacing),
      sendSpacingMs: options.sendSpacingMs ?? DEFAULT_SEND_SPACING_MS,
      paceAllSizes: options.paceAllSizes ?? false,
      marginMs: options.marginMs ?? DEFAULT_MARGIN_MS
    }
    // SynchronizedRef.modifyEffect is the mutex: reading the clock, planning and recording happen under
    // one lock, so no two callers can plan against the same history.
    const history = yield* SynchronizedRef.make<ReadonlyArray<PaceEntry>>([])
    const slots = yield* Effect.makeSemaphore(cfg.maxInFlight)
    const lanes = yield* Effect.makeSemaphore(cfg.maxInFlight)
    const stats = yield* Ref.make<PaceStats>({
      waits: 0,
      totalWaitMs: 0,
      byReason: emptyByReason(),
      inFlight: 0,
      queued: 0
    })
    // Sliding: a slow or absent subscriber must never hold up a download.
    const hub = yield* PubSub.sliding<PaceWait>(1024)

    const recordWait = (reason: PaceReason, ms: number, contract: string) =>
      Ref.update(stats, (s) => ({
        ...s,
        waits: s.waits + 1,
        totalWaitMs: s.totalWaitMs + ms,
        byReason: { ...s.byReason, [reason]: s.byReason[reason] + 1 }
      })).pipe(Effect.zipRight(PubSub.publish(hub, { reason, ms, contract })), Effect.asVoid)

    const counters = (dQueued: number, dInFlight: number) =>
      Ref.update(stats, (s) => ({ ...s, queued: s.queued + dQueued, inFlight: s.inFlight + dInFlight }))

    // A request whose timer fired (or whose in-flight slot freed) a little late still sends on its slot:
    // up to a quarter of the margin is spent on that, the rest stays for the way to the gateway. Later
    // than that, it re-plans, so a stalled event loop cannot release a pile of overdue requests at once.
    const lateToleranceMs = params.marginMs / 4

    /**
     * Under the lock: with `confirm`, keeps the reservation if it is due (no later than the tolerance) and
     * records the actual send time; otherwise plans from now, replacing the caller's unsent reservation.
     */
    const reserve = (req: PaceRequest, ticket: Ticket, confirm: boolean) =>
      SynchronizedRef.modifyEffect(history, (h) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const own = ticket.entry
          const others = pruneHistory(h.filter((e) => e !== own), now, params)
          const slot: PaceSlot = confirm && own !== undefined && now - own.t <= lateToleranceMs
            ? { at: Math.max(own.t, now), reason: undefined }
            : earliestSlot(others, req, now, params)
          const entry: PaceEntry = { ...req, t: slot.at }
          ticket.entry = entry
          return [{ now, slot }, [...others, entry]] as const
        })).pipe(Effect.uninterruptible)

    /** Reserves (or confirms) and reports the wait; returns how long to sleep (0: send now). */
    const plan = (req: PaceRequest, ticket: Ticket, confirm: boolean) =>
      Effect.gen(function*() {
        const { now, slot } = yield* reserve(req, ticket, confirm)
        if (slot.at <= now) return 0
        // No reason: a timer that fired early (Node's can, by a millisecond) sleeps the rest unreported.
        if (slot.reason !== undefined) yield* recordWait(slot.reason, slot.at - now, req.contract)
        // Node truncates fractional timer delays; round up so we never wake before the slot.
        return Math.ceil(slot.at - now)
      })

    const sleep = (ms: number) => (ms > 0 ? Effect.sleep(Duration.millis(ms)) : Effect.void)

    const dropLane = (ticket: Ticket) =>
      Effect.suspend(() => {
        if (!ticket.lane) return Effect.void
        ticket.lane = false
        return lanes.release(1)
      })

    // A caller that stops before sending leaves no trace: its reservation is released, so later planners
    // may take that slot. Requests already planned around it keep their (now slightly conservative)
    // slots — safe; it can only delay them, never break a rule.
    const cancel = (ticket: Ticket) =>
      Effect.suspend(() => {
        if (ticket.sent) return Effect.void
        const entry = ticket.entry
        const release = entry === undefined
          ? Effect.void
          : SynchronizedRef.update(history, (h) => h.filter((e) => e !== entry))
        return dropLane(ticket).pipe(Effect.zipRight(release), Effect.zipRight(counters(-1, 0)))
      })

    // Marking the ticket sent, freeing the lane and moving the counters happen together, or an interrupt
    // in between would leave them inconsistent.
    const send = <A, E, R>(ticket: Ticket, use: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.sync(() => {
          ticket.sent = true
        }).pipe(
          Effect.zipRight(dropLane(ticket)),
          Effect.zipRight(counters(-1, 1)),
          Effect.zipRight(restore(use).pipe(Effect.ensuring(counters(0, -1))))
        )
      )

    /** Sleeps until the reserved slot, then sends holding an in-flight slot. */
    const paceAndSend = <A, E, R>(
      req: PaceRequest,
      ticket: Ticket,
      use: Effect.Effect<A, E, R>
    ): Effect.Effect<A, E, R> =>
      Effect.gen(function*() {
        yield* sleep(yield* plan(req, ticket, false))
        // Confirm the slot while holding an in-flight slot; if it has passed, give the in-flight slot back
        // while sleeping towards the new one.
        const attempt = Effect.flatMap(
          plan(req, ticket, true),
          (ms): Effect.Effect<Either.Either<A, number>, E, R> =>
            ms === 0 ? Effect.map(send(ticket, use), Either.right) : Effect.succeed(Either.left(ms))
        )
        for (;;) {
          // Pacing first, in-flight slot second: a request sleeping on pacing must not hold a slot that a
          // request under no rule could use. The semaphore gives the slot back on any exit of `use`.
          const fast = yield* slots.withPermitsIfAvailable(1)(attempt)
          const result = Option.isSome(fast)
            ? fast.value
            : yield* Effect.flatMap(Clock.currentTimeMillis, (queuedAt) =>
              slots.withPermits(1)(
                Clock.currentTimeMillis.pipe(
                  Effect.flatMap((now) => recordWait("in-flight", now - queuedAt, req.contract)),
                  Effect.zipRight(attempt)
                )
              ))
          if (Either.isRight(result)) return result.right
          yield* sleep(result.left)
        }
      })

    const run = <A, E, R>(req: PaceRequest, use: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      Effect.uninterruptibleMask((restore) => {
        const ticket: Ticket = { entry: undefined, lane: false, sent: false }
        const takeLane = params.paceAllSizes || req.small
          ? restore(lanes.take(1)).pipe(Effect.tap(() => (ticket.lane = true)))
          : Effect.void
        return counters(1, 0).pipe(
          Effect.zipRight(takeLane),
          Effect.zipRight(restore(paceAndSend(req, ticket, use))),
          // onExit rather than onInterrupt: a defect before sending must not leave the caller counted.
          Effect.onExit(() => cancel(ticket))
        )
      })

    return { run, stats: Ref.get(stats), waits: Stream.fromPubSub(hub) } satisfies PaceGateService
  })
