/**
 * One gateway session: a fresh `IBApi` instance per connect attempt (a wedged instance is thrown away,
 * never reused — tws-protocol.md §3.5), ready only on NEXT_VALID_ID, with its TCP socket destroyed on
 * close whatever state it was in.
 */
import { EventName, IBApi } from "@stoqey/ib"
import { Deferred, Duration, Effect, Stream } from "effect"
import { IbError } from "../domain/errors.ts"

export interface IbSession {
  readonly api: IBApi
  readonly clientId: number
  readonly serverVersion: number
  readonly connectedAt: number
  readonly accounts: ReadonlyArray<string>
  /** Fails (never succeeds) when the session is lost: socket closed, 1100 → drop, 2110, silent gateway. */
  readonly lost: Deferred.Deferred<never, IbError>
  /** Epoch ms of the last message from the gateway; the liveness probe reads it. */
  readonly lastInbound: () => number
}

/** Session-level notices (id -1) the connection reacts to. */
export interface SessionNotice {
  readonly code: number
  readonly message: string
}

const isConnected = (api: IBApi): boolean => {
  try {
    return api.isConnected
  } catch {
    return false
  }
}

/** Ends the instance in every state, including "connecting" where IBApiNext's disconnect wedges. */
export const destroyApi = (api: IBApi): void => {
  try {
    api.removeAllListeners()
    // Errors emitted while tearing down must not reach the default EventEmitter "error" throw.
    api.on(EventName.error, () => {})
    api.disconnect()
  } catch {
    // already gone
  }
}

/**
 * Opens one session with `clientId`. Fails with `client-id-in-use` on 326, `connectivity` when the
 * socket fails or closes during the handshake, `timeout` after `connectTimeout` (the instance and its
 * socket are destroyed in every failure case).
 */
export const connectOnce = (host: string, port: number, clientId: number, connectTimeout: Duration.Duration) =>
  Effect.gen(function*() {
    const lost = yield* Deferred.make<never, IbError>()
    const session = yield* Effect.async<IbSession, IbError>((resume) => {
      const api = new IBApi({ host, port, maxReqPerSec: 40 })
      let settled = false
      let serverVersion = 0
      let accounts: ReadonlyArray<string> = []
      let lastInbound = Date.now()
      const fail = (e: IbError) => {
        if (settled) return
        settled = true
        destroyApi(api)
        resume(Effect.fail(e))
      }
      api.on(EventName.server, (v: number) => (serverVersion = v))
      api.on(EventName.managedAccounts, (csv: string) => (accounts = csv.split(",").filter((a) => a !== "")))
      api.on(EventName.received, () => (lastInbound = Date.now()))
      api.on(EventName.info, (message: string, code: number) => {
        if (code === 326) fail(IbError.fromIb(326, -1, message))
      })
      api.on(EventName.error, (err: Error, code: number, reqId: number) => {
        if (!settled && (reqId === -1 || reqId === undefined)) {
          fail(IbError.fromIb(code ?? 502, -1, err?.message ?? String(err)))
        }
      })
      api.on(
        EventName.disconnected,
        () => fail(IbError.of("connectivity", `gateway at ${host}:${port} closed the connection during the handshake`))
      )
      api.once(EventName.nextValidId, () => {
        if (settled) return
        settled = true
        resume(
          Effect.succeed({
            api,
            clientId,
            serverVersion,
            connectedAt: Date.now(),
            accounts,
            lost,
            lastInbound: () => lastInbound
          })
        )
      })
      try {
        api.connect(clientId)
      } catch (e) {
        fail(
          IbError.of("connectivity", `cannot connect to ${host}:${port}: ${e instanceof Error ? e.message : String(e)}`)
        )
      }
      // Interruption (the handshake timeout) lands here: the instance is discarded with its socket.
      return Effect.sync(() => {
        if (!settled) {
          settled = true
          destroyApi(api)
        }
      })
    }).pipe(
      Effect.timeoutFail({
        duration: connectTimeout,
        onTimeout: () =>
          IbError.of(
            "timeout",
            `no handshake from ${host}:${port} within ${Duration.format(connectTimeout)} (gateway not logged in?)`
          )
      })
    )
    wireSessionLoss(session)
    return session
  })

/** After the handshake: a socket close or a late socket error ends the session. */
const wireSessionLoss = (s: IbSession): void => {
  const api = s.api
  api.removeAllListeners(EventName.disconnected)
  api.on(
    EventName.disconnected,
    () => Deferred.unsafeDone(s.lost, Effect.fail(IbError.of("connectivity", "connection to the gateway was lost")))
  )
  api.on(EventName.error, (err: Error, code: number, reqId: number) => {
    if ((reqId === -1 || reqId === undefined) && (code === 502 || code === 504 || code === 505)) {
      Deferred.unsafeDone(s.lost, Effect.fail(IbError.fromIb(code, -1, err?.message ?? String(err))))
    }
  })
}

/** Session-level `info` notices (id -1) as a stream, for the connection's state machine. */
export const sessionNotices = (s: IbSession): Stream.Stream<SessionNotice> =>
  Stream.async<SessionNotice>((emit) => {
    const onInfo = (message: string, code: number) => void emit.single({ code, message })
    s.api.on(EventName.info, onInfo)
    return Effect.sync(() => void s.api.off(EventName.info, onInfo))
  })

/** Destroys the session's socket; safe to call twice. */
export const closeSession = (s: IbSession): Effect.Effect<void> =>
  Effect.sync(() => {
    Deferred.unsafeDone(s.lost, Effect.fail(IbError.of("connectivity", "session closed")))
    destroyApi(s.api)
  })

export const sessionIsConnected = (s: IbSession): boolean => isConnected(s.api)
