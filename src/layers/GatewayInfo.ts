/**
 * What the API says about the gateway it uses, whichever way it reaches it: this process's own session
 * (direct) or another server's (remote, through RemoteIb). Health and status handlers read only this.
 */
import { Context, Effect, Layer } from "effect"
import { IbConnection } from "./IbConnection.ts"

export interface GatewayReadiness {
  readonly ready: boolean
  /** Connection state name: Ready, Degraded, Connecting, Reconnecting, Disconnected (or Unreachable for remote). */
  readonly state: string
}

export interface GatewayInfoService {
  readonly mode: "direct" | "remote"
  /** True when the gateway is the built-in simulator (npm start, `ktrdr serve --sim`). */
  readonly simulated: boolean
  /** Never opens a connection: it reports the state the session is in. */
  readonly readiness: Effect.Effect<GatewayReadiness>
}

export class GatewayInfo extends Context.Tag("ktrdr/GatewayInfo")<GatewayInfo, GatewayInfoService>() {
  static readonly direct = (simulated: boolean) =>
    Layer.effect(
      GatewayInfo,
      Effect.map(IbConnection, (conn) => ({
        mode: "direct" as const,
        simulated,
        readiness: Effect.map(conn.info, (i) => ({ ready: i.state._tag === "Ready", state: i.state._tag }))
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
    readiness
  })
}
