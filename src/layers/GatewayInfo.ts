/**
 * What the API says about the gateway it uses, whichever way it reaches it: this process's own session
 * (direct) or another server's (remote, through RemoteIb). Health and status handlers read only this.
 */
import { Effect, Context, Layer, Schedule, Stream } from "effect"
import { IbConnection, type ConnectionInfo } from "./IbConnection.ts"

export interface GatewayReadiness {
  readonly ready: boolean
  /** Connection state name: Ready, Degraded, Connecting, Reconnecting, Disconnected (or Unreachable for remote). */
  readonly state: string
  /** Farm states, "unknown" while there is no session; null when not known here (remote). */
  readonly farms?: { readonly hmds: string; readonly connectivity: string } | null
  /** Reconnecting: attempts failed so far, the next attempt's time (epoch ms) and the last error. */
  readonly attempt?: number | null
  readonly nextAttemptAt?: number | null
  readonly lastError?: string | null
}

export interface GatewayInfoService {
  readonly mode: "direct" | "remote"
  /** True when the gateway is the built-in simulator (npm start, `ktrdr serve --sim`). */
  readonly simulated: boolean
  /** Never opens a connection: it reports the state the session is in. */
  readonly readiness: Effect.Effect<GatewayReadiness>
  /** The readiness now and at every change (the chart's live gateway badge); opens no connection either. */
  readonly changes: Stream.Stream<GatewayReadiness>
}

const readinessOf = (i: ConnectionInfo): GatewayReadiness => {
  const s = i.state
  return {
    ready: s._tag === "Ready",
    state: s._tag,
    farms: i.farms,
    attempt: s._tag === "Reconnecting" || s._tag === "Connecting" ? s.attempt : null,
    nextAttemptAt: s._tag === "Reconnecting" ? s.nextAttemptAt ?? null : null,
    lastError: s._tag === "Reconnecting" ? `[${s.lastError.label}] ${s.lastError.message}` : null
  }
}

const same = (a: GatewayReadiness, b: GatewayReadiness) => JSON.stringify(a) === JSON.stringify(b)

export class GatewayInfo extends Context.Tag("ktrdr/GatewayInfo")<GatewayInfo, GatewayInfoService>() {
  static readonly direct = (simulated: boolean) =>
    Layer.effect(
      GatewayInfo,
      Effect.map(IbConnection, (conn) => ({
        mode: "direct" as const,
        simulated,
        readiness: Effect.map(conn.info, readinessOf),
        changes: conn.state.changes.pipe(
          Stream.mapEffect(() => Effect.map(conn.info, readinessOf)),
          Stream.changesWith(same)
        )
      }))
    )

  /**
   * Another server owns the session (RemoteIb): `readiness` asks that server's /health (which opens no
   * IB connection either) and answers `Unreachable` when it cannot. A plain value: RemoteIb builds it
   * with its HTTP client, which lives in RemoteIb.ts.
   */
  static readonly remote = (simulated: boolean, readiness: Effect.Effect<GatewayReadiness>): GatewayInfoService => ({
    mode: "remote",
    simulated,
    readiness,
    // The host's state is only read by asking: every 2 s, told on change.
    changes: Stream.repeatEffectWithSchedule(readiness, Schedule.spaced("2 seconds")).pipe(Stream.changesWith(same))
  })
}
