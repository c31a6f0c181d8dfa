/** `GET /ib/config`'s answer (also the before/after of `PUT /ib/config`): the settings this process runs with. */
import { Duration } from "effect"
import { BURST_MAX, BURST_WINDOW_MS, IDENTICAL_WINDOW_MS, LONG_MAX, LONG_WINDOW_MS } from "../domain/PacingRules.ts"
import type { IbSettings } from "../layers/Config.ts"

const seconds = (d: Duration.Duration) => Duration.toMillis(d) / 1000

/** The URL's port, or its scheme's default. */
export const portOf = (url: string) => {
  const u = new URL(url)
  return u.port !== "" ? Number(u.port) : u.protocol === "https:" ? 443 : 80
}

/** Direct mode: the gateway's address; remote mode (`hostServiceUrl`): the IB host service's. */
export const ibConfigView = (cfg: IbSettings, hostServiceUrl: string | undefined) => ({
  ...(hostServiceUrl === undefined
    ? {
      host: cfg.host,
      port: cfg.port,
      client_id: cfg.clientId,
      client_id_range: { min: cfg.clientId, max: cfg.clientId + cfg.clientIdAttempts - 1 },
      host_service_url: null,
      mode: "direct" as const
    }
    : {
      host: hostServiceUrl,
      port: portOf(hostServiceUrl),
      client_id: null,
      client_id_range: null,
      host_service_url: hostServiceUrl,
      mode: "remote" as const
    }),
  timeout: seconds(cfg.requestTimeout),
  connect_timeout: seconds(cfg.connectTimeout),
  readonly: true as const,
  rate_limit: {
    max_requests: LONG_MAX,
    period_seconds: LONG_WINDOW_MS / 1000 / cfg.pacingTimeScale,
    pacing_delay: seconds(cfg.largeBarSpacing),
    burst_max: BURST_MAX,
    burst_period_seconds: BURST_WINDOW_MS / 1000 / cfg.pacingTimeScale,
    identical_request_seconds: IDENTICAL_WINDOW_MS / 1000 / cfg.pacingTimeScale,
    max_in_flight: cfg.maxInFlight
  }
})
