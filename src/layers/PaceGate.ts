/**
 * Client-side pacing for IB historical requests: every request reserves a send time that breaks none of
 * IB's rules (src/domain/PacingRules.ts), sleeps until then, and runs holding one of `maxInFlight` slots.
 * Reserving is atomic, so concurrent callers get distinct slots and sleep exactly until theirs — no
 * thundering herd of fibers re-checking the rules on every wake-up.
 *
 * What the gate guarantees: a request goes out only if, against every request already sent, it breaks
 * no rule *wherever in its [sent, answered] interval the gateway saw the earlier one*. That check runs
 * under the lock at the moment of sending (reservations are plans; the check is the guarantee), so no
 * delay on the way to the gateway — our client library's send queue, a stalled event loop — can turn
 * into a violation. Why that suffices: take any window the gateway counts, ending at some arrival z, and
 * the request in it we sent last, L. Everything else in it was sent before L, arrived after z - window,
 * and so was, at L's sending, either still in flight (counted as seen "now") or answered no earlier than
 * it arrived: all of it counted in L's check. A request whose answer never comes (timeout, interruption)
 * counts as in flight until `unsettledHoldMs` after we gave up on it — the one assumption. With
 * `stateFile`, what was sent survives a restart.
 *
 * Requests under IB's rules also hold one of `maxInFlight` "lanes" from reserving until sending. A
 * reservation commits everyone planned after it, so a request that cannot send on time (all in-flight
 * slots busy) must re-plan behind them and leaves its slot unused; bounding the reservations ahead to the
 * in-flight capacity keeps that loss to a few slots instead of whole 10-minute windows. Lanes are not the
 * in-flight slots themselves, so large-bar requests keep flowing while small-bar ones sleep on a window.
 */
import { join } from "node:path"
import {
  Cause,
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  Exit,
  Layer,
  Option,
  PubSub,
  Ref,
  Stream,
  SynchronizedRef
} from "effect"
import { IbError } from "../domain/errors.ts"
import {
  DEFAULT_MARGIN_MS,
  earliestSlot,
  effectiveWindows,
  historyHorizonMs,
  type PaceEntry,
  type PaceReason,
  type PaceRequest,
  type PaceSlot,
  type PacingParams,
  untilOf
} from "../domain/PacingRules.ts"
import { IbConfig } from "./Config.ts"
import { DataConfig } from "./DataConfig.ts"
import { openPaceStore, type PaceStore, paceStateFileName, type StoredPaceEntry } from "./paceState.ts"

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
  /** Apply IB's rules to every bar size, matching a simulator in pacing mode "all". Default: IbConfig's. */
  readonly paceAllSizes?: boolean
  /** Real ms added to every IB window; default DEFAULT_MARGIN_MS (500). */
  readonly marginMs?: number
  /** Minimum real ms between any two requests; default DEFAULT_SEND_SPACING_MS (35). */
  readonly sendSpacingMs?: number
  /**
   * How long after we gave up on a request (timeout, interruption) it may still reach the gateway; it
   * counts as in flight until then. Default: the configured request timeout.
   */
  readonly unsettledHoldMs?: number
  /**
   * Where sent requests are kept across restarts (see paceState.ts). Without it the gate assumes the
   * gateway has seen nothing from us before it started — true for a simulator started with the test.
   */
  readonly stateFile?: string
  /** Where sent requests are kept when not in a file (a cluster keeps a gateway's in its database); wins over it. */
  readonly paceStore?: (now: number) => Effect.Effect<PaceStore>
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
  /** The gate of a process that owns the gateway session: its history kept in the data dir, per gateway. */
  static readonly persistent: Layer.Layer<PaceGate, never, IbConfig | DataConfig> = Layer.effect(
    PaceGate,
    Effect.flatMap(
      Effect.all([IbConfig, DataConfig]),
      ([ib, data]) => PaceGate.make({ stateFile: join(data.dataDir, paceStateFileName(ib.host, ib.port)) })
    )
  )
}

const emptyByReason = (): Record<PaceReason, number> => ({
  identical: 0,
  burst: 0,
  window: 0,
  spacing: 0,
  "in-flight": 0
})

/** One request the gate knows of: reserved (not sent), in flight, or answered. */
interface Held {
  readonly req: PaceRequest
  /** Reserved send time; once sent, the time it was let out. */
  t: number
  sent: boolean
  /** When its answer came: the gateway had it by then. */
  answeredAt: number | undefined
  /** No answer will come (timed out, interrupted): assumed at the gateway by this time. */
  heldUntil: number | undefined
}

/**
 * The entry the rules see at `now`. A reservation is a point; a request in flight may still be on its way,
 * so it may have reached the gateway as late as now (or its hold); an answered one by its answer.
 */
const view = (h: Held, now: number): PaceEntry => ({
  ...h.req,
  t: h.t,
  until: !h.sent
    ? h.t
    : h.answeredAt ?? (h.heldUntil !== undefined && h.heldUntil <= now ? h.heldUntil : Math.max(h.t, now))
})

/** Did the gateway answer (so it had the request by now)? A timeout or an interruption says nothing. */
const answered = (exit: Exit.Exit<unknown, unknown>): boolean =>
  Exit.match(exit, {
    onSuccess: () => true,
    onFailure: (cause) =>
      !Exit.isInterrupted(exit) && Option.match(Cause.failureOption(cause), {
        onNone: () => false,
        onSome: (e) => !(e instanceof IbError && (e.category === "timeout" || e.category === "cancelled"))
      })
  })

/** What an in-progress `run` holds, so interruption can give back exactly that. */
interface Ticket {
  held: Held | undefined
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
      paceAllSizes: options.paceAllSizes ?? cfg.paceAllSizes,
      marginMs: options.marginMs ?? DEFAULT_MARGIN_MS
    }
    const unsettledHoldMs = options.unsettledHoldMs ?? Duration.toMillis(cfg.requestTimeout)
    const paced = (req: PaceRequest) => params.paceAllSizes || req.small
    const started = yield* Clock.currentTimeMillis
    const store = options.paceStore !== undefined
      ? yield* options.paceStore(started)
      : options.stateFile === undefined
      ? undefined
      : yield* openPaceStore(options.stateFile, started)
    /**
     * Paced requests wait for this: a process that cannot prove what it sent before it started waits one
     * identical-request window (which also covers the burst window).
     */
    const notBefore = store === undefined || store.trusted ? 0 : started + effectiveWindows(params).identical
    // What the last process sent comes back as answered: by the time in the file, or by now at the latest.
    const restored = (store?.entries ?? []).map((e): Held => ({
      req: { identity: e.identity, contract: e.contract, weight: e.weight, small: e.small },
      t: e.t,
      sent: true,
      answeredAt: untilOf(e),
      heldUntil: undefined
    }))

    // SynchronizedRef.modifyEffect is the mutex: reading the clock, planning and recording happen under
    // one lock, so no two callers can plan against the same history.
    const history = yield* SynchronizedRef.make<ReadonlyArray<Held>>(restored)
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

    /** Drops what can no longer constrain any request at `now` or later; reservations always stay. */
    const prune = (hs: ReadonlyArray<Held>, now: number) =>
      hs.filter((h) => !h.sent || now - untilOf(view(h, now)) < historyHorizonMs(params, h.req))

    /** The earliest slot for `req` at or after `now` against `against`, never before `notBefore`. */
    const slotFor = (against: ReadonlyArray<Held>, req: PaceRequest, now: number): PaceSlot => {
      const from = paced(req) ? Math.max(now, notBefore) : now
      const slot = earliestSlot(against.map((h) => view(h, now)), req, from, params)
      return slot.at > now && slot.reason === undefined ? { at: slot.at, reason: "identical" } : slot
    }

    /**
     * Under the lock. With `confirm` (the caller's reserved time has come): sends now if no rule breaks
     * against the requests already sent — the guarantee — and marks it sent before the lock is released.
     * Otherwise, or without `confirm`, plans from now against everything, reservations included.
     */
    const reserve = (req: PaceRequest, ticket: Ticket, confirm: boolean) =>
      SynchronizedRef.modifyEffect(history, (hs) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const own = ticket.held ?? { req, t: now, sent: false, answeredAt: undefined, heldUntil: undefined }
          ticket.held = own
          const others = prune(hs.filter((h) => h !== own), now)
          if (confirm && slotFor(others.filter((h) => h.sent), req, now).at <= now) {
            own.t = now
            own.sent = true
            return [{ now, slot: { at: now, reason: undefined } as PaceSlot }, [...others, own]] as const
          }
          const slot = slotFor(others, req, now)
          own.t = slot.at
          return [{ now, slot }, [...others, own]] as const
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

    /**
     * Writes what was sent, when there is a state file; the write precedes the send it records. One write
     * at a time, each of the latest history, so a finished write holds every request sent before it began.
     */
    const writing = yield* Effect.makeSemaphore(1)
    const persist = store === undefined ? Effect.void : writing.withPermits(1)(Effect.flatMap(
      Effect.zip(SynchronizedRef.get(history), Clock.currentTimeMillis),
      ([hs, now]) => store.save(hs.filter((h) => h.sent).map((h) => stored(h, now)))
    ))

    // A caller that stops before sending leaves no trace: its reservation is released, so later planners
    // may take that slot. Requests already planned around it keep their (now slightly conservative)
    // slots — safe; it can only delay them, never break a rule.
    const cancel = (ticket: Ticket) =>
      Effect.suspend(() => {
        if (ticket.sent) return Effect.void
        const held = ticket.held
        const release = held === undefined
          ? Effect.void
          : SynchronizedRef.update(history, (hs) => hs.filter((h) => h !== held))
        return dropLane(ticket).pipe(Effect.zipRight(release), Effect.zipRight(counters(-1, 0)))
      })

    /** After `use`: an answer bounds when the gateway had it; no answer holds it "in flight" a while. */
    const settle = (held: Held, exit: Exit.Exit<unknown, unknown>) =>
      SynchronizedRef.updateEffect(history, (hs) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          if (answered(exit)) held.answeredAt = now
          else held.heldUntil = now + unsettledHoldMs
          return hs
        })).pipe(Effect.zipRight(persist))

    // Marking the ticket sent, freeing the lane and moving the counters happen together, or an interrupt
    // in between would leave them inconsistent.
    const send = <A, E, R>(ticket: Ticket, use: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.sync(() => {
          ticket.sent = true
        }).pipe(
          Effect.zipRight(dropLane(ticket)),
          Effect.zipRight(counters(-1, 1)),
          Effect.zipRight(persist),
          Effect.zipRight(
            restore(use).pipe(
              Effect.onExit((exit) => settle(ticket.held!, exit)),
              Effect.ensuring(counters(0, -1))
            )
          )
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
        const ticket: Ticket = { held: undefined, lane: false, sent: false }
        const takeLane = paced(req)
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

/** The file's view of a sent request: unanswered ones carry no bound (the next process supplies it). */
const stored = (h: Held, now: number): StoredPaceEntry => ({
  ...h.req,
  t: h.t,
  until: h.answeredAt ?? (h.heldUntil !== undefined && h.heldUntil <= now ? h.heldUntil : null)
})
