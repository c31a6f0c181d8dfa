/**
 * How a caller waits for the gateway session when there is none (issue 11). By default it fails fast:
 * it wakes the connection's supervisor, watches the attempt in progress and one short retry, and fails
 * with IB's 502 and a message saying where, what was tried and how to fix it — within the connect
 * timeout plus the short retry. A caller that asked to wait (a load with `wait_for_gateway`) runs with
 * a `GatewayWait` policy instead: it waits as long as it takes, told of every attempt.
 */
import { Clock, Duration, Effect, FiberRef, Option, Ref, Stream } from "effect"
import { unreachableMessage, UNREACHABLE_CODE } from "../domain/gatewayHelp.ts"
import { IbError } from "../domain/errors.ts"
import type { IbSettings } from "./Config.ts"

export interface GatewayWaiting {
  /** Connection attempts made so far in this outage (0 while the first is in progress). */
  readonly attempt: number
  /** Epoch ms of the next attempt; null while one is in progress. */
  readonly nextAttemptAt: number | null
  readonly lastError: IbError | null
}

export interface GatewayWaitPolicy {
  /** Called when the wait starts, on every attempt, once a second while waiting, and with null once ready. */
  readonly onWaiting: (w: GatewayWaiting | null) => Effect.Effect<void>
}

/** Set (with Effect.locally) around work that should wait for the gateway instead of failing fast. */
export const GatewayWait: FiberRef.FiberRef<GatewayWaitPolicy | null> = FiberRef.unsafeMake<GatewayWaitPolicy | null>(
  null
)

/** The states of IbConnection this module reads (a structural copy, to keep the import one-way). */
export type WatchedState =
  | { readonly _tag: "Disconnected" }
  | { readonly _tag: "Connecting"; readonly attempt: number; readonly clientId: number }
  | { readonly _tag: "Ready" }
  | { readonly _tag: "Degraded" }
  | {
    readonly _tag: "Reconnecting"
    readonly attempt: number
    readonly lastError: IbError
    readonly nextAttemptAt?: number | undefined
  }

export interface Watch {
  /** The current state, then every change. */
  readonly changes: Stream.Stream<WatchedState>
  readonly get: Effect.Effect<WatchedState>
  readonly settings: IbSettings
  /** Wakes the supervisor when it sleeps between attempts: the next attempt starts now. */
  readonly kick: Effect.Effect<void>
}

/** How the watch ended: a connected state (usable or degraded), or the error to fail with. */
export type Verdict = { readonly _tag: "Connected" } | { readonly _tag: "Failed"; readonly error: IbError }

const connected = (s: WatchedState) => s._tag === "Ready" || s._tag === "Degraded"
const closed = IbError.of("connectivity", "IB connection is closed")

/** Fails fast: the attempt in progress (or the one the kick starts) and one short retry, then IB 502. */
export const failFast = (w: Watch, first: WatchedState): Effect.Effect<Verdict> =>
  Effect.gen(function*() {
    const cfg = w.settings
    const started = yield* Clock.currentTimeMillis
    // A failure seen on entry is old news: only attempts that end while we watch count.
    const stale = first._tag === "Reconnecting" ? first.attempt : -1
    const seen = new Set<number>()
    const last = yield* Ref.make<IbError | null>(first._tag === "Reconnecting" ? first.lastError : null)
    const verdict = yield* Ref.make<Option.Option<Verdict>>(Option.none())
    const shortRetry = Duration.min(cfg.reconnectBase, Duration.seconds(1))
    const unreachable = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const e = yield* Ref.get(last)
      return new IbError({
        code: UNREACHABLE_CODE,
        reqId: -1,
        // A gateway that accepts but never completes the handshake (not logged in) stays a timeout.
        category: e?.category === "timeout" ? "timeout" : "connectivity",
        retryable: true,
        message: unreachableMessage({
          host: cfg.host,
          port: cfg.port,
          clientId: cfg.clientId,
          attempts: Math.max(1, seen.size),
          lastError: e === null ? null : e.message,
          elapsedMs: now - started
        })
      })
    })
    const decide = (v: Verdict) => Ref.set(verdict, Option.some(v)).pipe(Effect.as(false))
    const step = (s: WatchedState): Effect.Effect<boolean> =>
      Effect.gen(function*() {
        if (connected(s)) return yield* decide({ _tag: "Connected" })
        if (s._tag === "Disconnected") return yield* decide({ _tag: "Failed", error: closed })
        if (s._tag !== "Reconnecting" || s.attempt < 1 || s.attempt === stale || seen.has(s.attempt)) return true
        seen.add(s.attempt)
        yield* Ref.set(last, s.lastError)
        // All client ids in use: the gateway is there, and says so; nothing a retry now would change.
        if (s.lastError.category === "client-id-in-use") return yield* decide({ _tag: "Failed", error: s.lastError })
        if (seen.size >= 2) return yield* decide({ _tag: "Failed", error: yield* unreachable })
        yield* Effect.sleep(shortRetry)
        yield* w.kick
        return true
      })
    // The deadline: connect timeout plus the short retry. A gateway busy answering 326 (client ids in
    // use) is reachable: its verdict is worth the wait.
    const deadline = Duration.sum(cfg.connectTimeout, Duration.sum(shortRetry, Duration.seconds(1)))
    const onDeadline = Effect.flatMap(w.get, (s) =>
      s._tag === "Connecting" && s.clientId !== cfg.clientId
        ? Effect.succeed(true)
        : Effect.flatMap(unreachable, (error) => decide({ _tag: "Failed", error })))
    yield* w.kick
    yield* w.changes.pipe(
      Stream.map(Option.some),
      Stream.merge(Stream.fromEffect(Effect.as(Effect.sleep(deadline), Option.none<WatchedState>()))),
      Stream.runForEachWhile(Option.match({ onNone: () => onDeadline, onSome: step }))
    )
    const v = yield* Ref.get(verdict)
    if (Option.isSome(v)) return v.value
    return { _tag: "Failed", error: yield* unreachable } as const
  })

/** Waits until connected, however long, reporting each attempt (and a countdown) to the policy. */
export const waitLong = (w: Watch, policy: GatewayWaitPolicy): Effect.Effect<Verdict> =>
  Effect.gen(function*() {
    const report = (s: WatchedState) =>
      s._tag === "Reconnecting"
        ? policy.onWaiting({ attempt: s.attempt, nextAttemptAt: s.nextAttemptAt ?? null, lastError: s.lastError })
        : s._tag === "Connecting"
        ? policy.onWaiting({ attempt: Math.max(0, s.attempt - 1), nextAttemptAt: null, lastError: null })
        : Effect.void
    yield* w.kick
    const ticks = Stream.tick("1 second").pipe(Stream.mapEffect(() => w.get))
    const end = yield* w.changes.pipe(
      Stream.merge(ticks, { haltStrategy: "left" }),
      Stream.tap(report),
      Stream.filter((s) => connected(s) || s._tag === "Disconnected"),
      Stream.runHead
    )
    yield* policy.onWaiting(null)
    return Option.isSome(end) && connected(end.value) ? { _tag: "Connected" } as const : {
      _tag: "Failed",
      error: closed
    } as const
  })
