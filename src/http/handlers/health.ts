import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { ApiConfig } from "../../layers/ApiConfig.ts"
import { GatewayInfo } from "../../layers/GatewayInfo.ts"
import { KtrdrApi } from "../../contract/Api.ts"

export const HealthLive = HttpApiBuilder.group(KtrdrApi, "health", (handlers) =>
  Effect.gen(function*() {
    const cfg = yield* ApiConfig
    const gw = yield* GatewayInfo
    return handlers.handle("health", () =>
      Effect.map(gw.readiness, (r) => ({
        status: "ok" as const,
        version: cfg.version,
        gateway: { ready: r.ready, state: r.state, mode: gw.mode, simulated: gw.simulated, farms: r.farms ?? null }
      })))
  }))
