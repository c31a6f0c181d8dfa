/**
 * The process's one gateway session (DESIGN: exactly one owner). A supervisor fiber connects, moves to
 * the next client id on 326 (bounded, ≥ 2 s apart), reconnects forever on loss with an exponential,
 * jittered, capped Schedule, tracks 1100/1101/1102 and HMDS farm notices, and probes an idle socket so
 * a silent or half-open gateway is replaced. Closing the layer's scope destroys the socket.
 */
import {
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  Fiber,
  FiberRef,
  Layer,
  Option,
  Queue,
  Ref,
  Schedule,
  Stream,
  SubscriptionRef
} from "effect"
import { EventName } from "@stoqey/ib"
import { IbError } from "../domain/errors.ts"
import { IbConfig, type IbSettings } from "./Config.ts"
import { failFast, GatewayWait, waitLong, type Watch } from "./gatewayWait.ts"
import { closeSession, connectOnce, sessionNotices, type IbSession } from "./ibSession.ts"

export type ConnectionState =
  | { readonly _tag: "Disconnected" }
  | { readonly _tag: "Connecting"; readonly attempt: number; readonly clientId: number }
  | { readonly _tag: "Ready"; readonly clientId: number; readonly since: number }
  | {
    readonly _tag: "Degraded"
    readonly reason: "connectivity-lost" | "hmds-broken"
    readonly clientId: number
    readonly since: number
  }
  | {
    readonly _tag: "Reconnecting"
    readonly attempt: number
    readonly lastError: IbError
    /** Epoch ms of the next connection attempt, once the reconnect schedule has set it. */
    readonly nextAttemptAt?: number | undefined
  }

/** A farm's state as last reported by the gateway; "unknown" while there is no session to report it. */
export type FarmState = "ok" | "broken" | "unknown"
export type ConnectivityState = "ok" | "lost" | "unknown"

export interface ConnectionCounters {
  readonly connects: number
  readonly connectFailures: number
  readonly reconnects: number
  readonly probes: number
  readonly probeFailures: number
}

export interface ConnectionInfo {
  readonly state: ConnectionState
  readonly host: string
  readonly port: number
  readonly clientId: number | null
  readonly serverVersion: number | null
  readonly connectedSince: number | null
  /** When the last session ended (lost or replaced); null while none has. */
  readonly lastDisconnectAt: number | null
  readonly accounts: ReadonlyArray<string>
  readonly farms: { readonly hmds: FarmState; readonly connectivity: ConnectivityState }
  readonly counters: ConnectionCounters
  readonly lastError: {
    readonly code: number
    readonly category: string
    readonly message: string
    readonly at: number
  } | null
}

export class IbConnection extends Context.Tag("ktrdr/IbConnection")<IbConnection, {
  /** Current state and its changes (disconnected → connecting → ready → degraded → reconnecting). */
  readonly state: SubscriptionRef.SubscriptionRef<ConnectionState>
  /** Starts connecting if the connection is lazy and has not yet (a no-op otherwise). */
  readonly start: Effect.Effect<void>
  /**
   * The live session once usable: Ready, or Degraded by the HMDS farm only for non-historical requests.
   * With no session, fails fast (gatewayWait.ts): the attempt in progress and one short retry, then IB 502
   * naming host:port and the fix — unless the caller runs under a `GatewayWait` policy, which waits.
   * Degraded: waits up to `requestTimeout` for the farm or link to come back.
   */
  readonly session: (opts: { readonly historical: boolean }) => Effect.Effect<IbSession, IbError>
  readonly info: Effect.Effect<ConnectionInfo>
  /** Records a request failure as the "last error" shown in status. */
  readonly recordError: (e: IbError) => Effect.Effect<void>
  /** Request ids, unique across sessions of this process. */
  readonly nextReqId: Effect.Effect<number>
  readonly settings: IbSettings
}>() {}

const CLIENT_ID_SPACING = Duration.seconds(2)

const usable = (s: ConnectionState, historical: boolean): boolean =>
  s._tag === "Ready" || (!historical && s._tag === "Degraded" && s.reason === "hmds-broken")

export interface IbConnectionOptions {
  /**
   * Open no session until a caller needs one (`session`, `start`): embedded CLI commands that never talk to
   * IB (`data show --embedded`) open none and log nothing about the gateway. Default: connect at once.
   */
  readonly lazy?: boolean
}

export const make = (options: IbConnectionOptions = {}) =>
  Effect.gen(function*() {
    const cfg = yield* IbConfig
    const state = yield* SubscriptionRef.make<ConnectionState>({ _tag: "Disconnected" })
    const current = yield* Ref.make<Option.Option<IbSession>>(Option.none())
    const counters = yield* Ref.make<ConnectionCounters>({
      connects: 0,
      connectFailures: 0,
      reconnects: 0,
      probes: 0,
      probeFailures: 0
    })
    const lastError = yield* Ref.make<ConnectionInfo["lastError"]>(null)
    const unknownFarms: ConnectionInfo["farms"] = { hmds: "unknown", connectivity: "unknown" }
    const farms = yield* Ref.make<ConnectionInfo["farms"]>(unknownFarms)
    // Wakes the supervisor between attempts (a caller wants to know now); one pending wake is enough.
    const wake = yield* Queue.dropping<void>(1)
    const reqIds = yield* Ref.make(1000)
    const attempt = yield* Ref.make(0)
    const lastDisconnectAt = yield* Ref.make<number | null>(null)
    const bump = (k: keyof ConnectionCounters) => Ref.update(counters, (c) => ({ ...c, [k]: c[k] + 1 }))
    const recordError = (e: IbError) =>
      Clock.currentTimeMillis.pipe(
        Effect.flatMap((at) => Ref.set(lastError, { code: e.code, category: e.category, message: e.message, at }))
      )

    /** Tries client ids cfg.clientId, +1, … on 326 only, at most clientIdAttempts times, ≥ 2 s apart. */
    const connectWithIds = Effect.gen(function*() {
      const offset = yield* Ref.make(0)
      const n = yield* Ref.updateAndGet(attempt, (a) => a + 1)
      return yield* Effect.gen(function*() {
        const id = cfg.clientId + (yield* Ref.get(offset))
        yield* SubscriptionRef.set(state, { _tag: "Connecting", attempt: n, clientId: id })
        yield* Effect.logInfo(`IB: connecting to ${cfg.host}:${cfg.port} as client ${id} (attempt ${n})`)
        return yield* connectOnce(cfg.host, cfg.port, id, cfg.connectTimeout).pipe(
          // A throw inside the library (e.g. a broken bundle) must become a retried failure, not a silently dead
          // supervisor.
          Effect.catchAllDefect((d) =>
            Effect.fail(
              IbError.of(
                "connectivity",
                `cannot connect to ${cfg.host}:${cfg.port}: ${d instanceof Error ? d.message : String(d)}`
              )
            )
          ),
          Effect.tapError((e) => (e.category === "client-id-in-use" ? Ref.update(offset, (o) => o + 1) : Effect.void))
        )
      }).pipe(
        Effect.retry({
          schedule: Schedule.spaced(CLIENT_ID_SPACING).pipe(
            Schedule.intersect(Schedule.recurs(cfg.clientIdAttempts - 1))
          ),
          while: (e) => e.category === "client-id-in-use"
        }),
        Effect.mapError((e) =>
          e.category === "client-id-in-use"
            ? new IbError({
              ...e,
              message: `client ids ${cfg.clientId}–${
                cfg.clientId + cfg.clientIdAttempts - 1
              } are all in use at ${cfg.host}:${cfg.port} (IB 326)`
            })
            : e
        )
      )
    })

    const reconnectSchedule = Schedule.exponential(cfg.reconnectBase, 2).pipe(
      Schedule.union(Schedule.spaced(cfg.reconnectCap)),
      Schedule.jittered
    )

    /** Lives for one session: reacts to notices, probes when idle, returns when the session is lost. */
    const serve = (s: IbSession) =>
      Effect.gen(function*() {
        yield* bump("connects")
        yield* Ref.set(farms, { hmds: "ok", connectivity: "ok" } as ConnectionInfo["farms"])
        yield* Ref.set(current, Option.some(s))
        yield* SubscriptionRef.set(state, { _tag: "Ready", clientId: s.clientId, since: s.connectedAt })
        yield* Effect.logInfo(
          `IB: ready at ${cfg.host}:${cfg.port} as client ${s.clientId} (server ${s.serverVersion})`
        )
        const setFarm = (patch: Partial<ConnectionInfo["farms"]>) =>
          Effect.gen(function*() {
            const f = yield* Ref.updateAndGet(farms, (f) => ({ ...f, ...patch }))
            const since = yield* Clock.currentTimeMillis
            yield* SubscriptionRef.set(
              state,
              f.connectivity === "lost"
                ? { _tag: "Degraded", reason: "connectivity-lost", clientId: s.clientId, since }
                : f.hmds === "broken"
                ? { _tag: "Degraded", reason: "hmds-broken", clientId: s.clientId, since }
                : { _tag: "Ready", clientId: s.clientId, since: s.connectedAt }
            )
          })
        yield* sessionNotices(s).pipe(
          Stream.runForEach(({ code, message }) => {
            switch (code) {
              case 1100:
                return Effect.logWarning(`IB 1100: ${message}`).pipe(Effect.zipRight(setFarm({ connectivity: "lost" })))
              case 1101:
              case 1102:
                return Effect.logInfo(`IB ${code}: ${message}`).pipe(Effect.zipRight(setFarm({ connectivity: "ok" })))
              case 2105:
                return Effect.logWarning(`IB 2105: ${message}`).pipe(Effect.zipRight(setFarm({ hmds: "broken" })))
              case 2106:
                return setFarm({ hmds: "ok" })
              case 2110:
                // As @stoqey/ib's IBApiNext does since PR #234: drop this session and reconnect.
                return Deferred.fail(s.lost, IbError.fromIb(2110, -1, message))
              case 1300:
                return Deferred.fail(s.lost, IbError.fromIb(1300, -1, message))
              default:
                return Effect.void
            }
          }),
          Effect.forkScoped
        )
        yield* probe(s).pipe(Effect.forkScoped)
        return yield* Deferred.await(s.lost).pipe(Effect.flip)
      })

    /** A current-time request when nothing arrived for probeInterval; no answer within probeTimeout = dead. */
    const probe = (s: IbSession) =>
      Effect.gen(function*() {
        const idle = Duration.toMillis(cfg.probeInterval)
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          const quiet = now - s.lastInbound()
          if (quiet < idle) {
            yield* Effect.sleep(Duration.millis(Math.max(10, idle - quiet)))
            continue
          }
          yield* bump("probes")
          const answered = yield* Effect.async<boolean>((resume) => {
            const on = () => resume(Effect.succeed(true))
            s.api.once(EventName.currentTime, on)
            s.api.reqCurrentTime()
            return Effect.sync(() => void s.api.off(EventName.currentTime, on))
          }).pipe(Effect.timeoutTo({ duration: cfg.probeTimeout, onTimeout: () => false, onSuccess: (b) => b }))
          if (!answered) {
            yield* bump("probeFailures")
            yield* Deferred.fail(
              s.lost,
              IbError.of(
                "timeout",
                `gateway silent: no answer to a liveness probe within ${Duration.format(cfg.probeTimeout)}`
              )
            )
            return
          }
          yield* Effect.sleep(Duration.millis(Math.max(10, idle / 2)))
        }
      })

    /**
     * Attempts until one connects, spaced by the reconnect schedule. The schedule's delay is announced in
     * the state (`nextAttemptAt`, for "next try in 8 s"), and a wake-up cuts the sleep short.
     */
    const connectUntilUp = Effect.gen(function*() {
      const delays = Schedule.delays(reconnectSchedule).pipe(
        Schedule.tapOutput((d) =>
          Effect.flatMap(
            Clock.currentTimeMillis,
            (now) =>
              SubscriptionRef.update(
                state,
                (s) => s._tag === "Reconnecting" ? { ...s, nextAttemptAt: now + Duration.toMillis(d) } : s
              )
          )
        )
      )
      const driver = yield* Schedule.driver(delays)
      for (;;) {
        yield* Queue.takeAll(wake)
        const r = yield* Effect.either(connectWithIds)
        if (Either.isRight(r)) return r.right
        const e = r.left
        yield* bump("connectFailures")
        yield* recordError(e)
        const n = yield* Ref.get(attempt)
        yield* SubscriptionRef.set(state, { _tag: "Reconnecting", attempt: n, lastError: e })
        yield* Effect.logWarning(`IB: connection attempt ${n} failed: [${e.label}] ${e.message}; retrying`)
        yield* Effect.raceFirst(Effect.ignore(driver.next(e)), Queue.take(wake))
      }
    })

    const lifecycle = Effect.gen(function*() {
      const session = yield* connectUntilUp
      yield* Ref.set(attempt, 0)
      const lostWith = yield* Effect.acquireUseRelease(
        Effect.succeed(session),
        (s) => Effect.scoped(serve(s)),
        (s) =>
          Ref.set(current, Option.none()).pipe(
            // No session, no farm reports: what the gateway said last is no longer known.
            Effect.zipRight(Ref.set(farms, unknownFarms)),
            Effect.zipRight(closeSession(s))
          )
      )
      yield* Ref.set(lastDisconnectAt, yield* Clock.currentTimeMillis)
      yield* recordError(lostWith)
      yield* bump("reconnects")
      yield* SubscriptionRef.set(state, { _tag: "Reconnecting", attempt: 0, lastError: lostWith })
      yield* Effect.logWarning(`IB: session lost: [${lostWith.label}] ${lostWith.message}; reconnecting`)
    }).pipe(Effect.forever)

    // The supervisor starts with the layer, or — lazy — with the first call that needs the gateway.
    const scope = yield* Effect.scope
    const supervisor = yield* Ref.make<Option.Option<Fiber.RuntimeFiber<never>>>(Option.none())
    const start = yield* Effect.cached(
      SubscriptionRef.set(state, { _tag: "Connecting", attempt: 0, clientId: cfg.clientId }).pipe(
        // Forked from an uninterruptible region, the fiber would inherit it: no wake-ups, no interruption.
        Effect.zipRight(Effect.forkIn(Effect.interruptible(lifecycle), scope)),
        Effect.flatMap((f) => Ref.set(supervisor, Option.some(f))),
        Effect.uninterruptible
      )
    )
    yield* Effect.addFinalizer(() =>
      Ref.get(supervisor).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.void, onSome: Fiber.interrupt })),
        Effect.zipRight(SubscriptionRef.set(state, { _tag: "Disconnected" })),
        Effect.timeout("2 seconds"),
        Effect.ignore
      )
    )
    if (!options.lazy) yield* start

    const watch: Watch = {
      changes: state.changes,
      get: SubscriptionRef.get(state),
      settings: cfg,
      kick: Effect.asVoid(Queue.offer(wake, undefined))
    }

    const liveSession = Effect.flatMap(Ref.get(current), (live) =>
      Option.match(live, {
        onNone: () => Effect.fail(IbError.of("connectivity", "IB session is not available")),
        onSome: (s) => Effect.succeed(s)
      }))

    /** Connected but not usable (1100, or 2105 for historical requests): wait for the farm, the link or a loss. */
    const awaitUsable = (historical: boolean, first: ConnectionState) =>
      Effect.gen(function*() {
        const ready = yield* state.changes.pipe(
          Stream.filter((s) => usable(s, historical) || s._tag === "Reconnecting" || s._tag === "Disconnected"),
          Stream.runHead,
          Effect.timeoutFail({
            duration: cfg.requestTimeout,
            onTimeout: () =>
              IbError.of(
                "timeout",
                `gateway not ready within ${Duration.format(cfg.requestTimeout)} (state ${first._tag})`
              )
          })
        )
        const s = Option.getOrUndefined(ready)
        if (!s || s._tag === "Disconnected") return yield* IbError.of("connectivity", "IB connection is closed")
        if (s._tag === "Reconnecting") return yield* s.lastError
        return yield* liveSession
      })

    const session = (opts: { readonly historical: boolean }): Effect.Effect<IbSession, IbError> =>
      Effect.gen(function*() {
        yield* start
        const first = yield* SubscriptionRef.get(state)
        if (usable(first, opts.historical)) return yield* liveSession
        if (first._tag === "Disconnected") return yield* IbError.of("connectivity", "IB connection is closed")
        if (first._tag !== "Ready" && first._tag !== "Degraded") {
          const policy = yield* FiberRef.get(GatewayWait)
          const verdict = yield* policy === null ? failFast(watch, first) : waitLong(watch, policy)
          if (verdict._tag === "Failed") return yield* verdict.error
        }
        const now = yield* SubscriptionRef.get(state)
        return usable(now, opts.historical) ? yield* liveSession : yield* awaitUsable(opts.historical, now)
      })

    const info = Effect.gen(function*() {
      const s = yield* SubscriptionRef.get(state)
      const live = Option.getOrUndefined(yield* Ref.get(current))
      return {
        state: s,
        host: cfg.host,
        port: cfg.port,
        clientId: live?.clientId ?? null,
        serverVersion: live?.serverVersion ?? null,
        connectedSince: live?.connectedAt ?? null,
        lastDisconnectAt: yield* Ref.get(lastDisconnectAt),
        accounts: live?.accounts ?? [],
        farms: yield* Ref.get(farms),
        counters: yield* Ref.get(counters),
        lastError: yield* Ref.get(lastError)
      } satisfies ConnectionInfo
    })

    return IbConnection.of({
      state,
      start,
      session,
      info,
      recordError,
      nextReqId: Ref.getAndUpdate(reqIds, (n) => n + 1),
      settings: cfg
    })
  })

export const IbConnectionLive = Layer.scoped(IbConnection, make())
/** Connects on first need (see IbConnectionOptions.lazy). */
export const IbConnectionLazy = Layer.scoped(IbConnection, make({ lazy: true }))
