/**
 * KTRDR's IB endpoints (ktrdr-api-cli.md §2.4) with KTRDR's paths and field names, answering real
 * values (KTRDR's were placeholders) and real statuses (KTRDR answered failures as HTTP 200). Fields
 * after KTRDR's are additions. /ib/health reads state only and never opens a connection.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  BadRequestWire,
  Envelope,
  ErrorBody,
  GatewayErrorWire,
  GatewayUnavailableWire,
  InternalWire,
  NotFoundWire
} from "../envelope.ts"
import { Auth } from "./auth.ts"
import { BoolBody } from "../pyBool.ts"
import { SymbolParam } from "./data.ts"

const Iso = Schema.String
const Mode = Schema.Literal("direct", "remote")

export const IbStatusData = Schema.Struct({
  connection: Schema.Struct({
    connected: Schema.Boolean,
    /** Remote mode: the host service's URL (as KTRDR's host mode did). */
    host: Schema.String,
    port: Schema.Number,
    /** The client id the gateway knows this session by; null while not connected (remote: the host's). */
    client_id: Schema.NullOr(Schema.Number),
    connection_time: Schema.NullOr(Iso)
  }),
  connection_metrics: Schema.Struct({
    total_connections: Schema.Number,
    failed_connections: Schema.Number,
    /** Epoch seconds (KTRDR's float) of the current session's start; null while none is up. */
    last_connect_time: Schema.NullOr(Schema.Number),
    /** Epoch seconds of the last session's end; null while none has ended. */
    last_disconnect_time: Schema.NullOr(Schema.Number),
    uptime_seconds: Schema.NullOr(Schema.Number)
  }),
  /** This process's requests (remote mode: those it sent to the host service). */
  data_metrics: Schema.Struct({
    total_requests: Schema.Number,
    successful_requests: Schema.Number,
    failed_requests: Schema.Number,
    total_bars_fetched: Schema.Number,
    /** successful / total as a percentage, 0..100 (KTRDR's documented meaning); 100 before any request. */
    success_rate: Schema.Number,
    failed_by_category: Schema.Record({ key: Schema.String, value: Schema.Number }),
    pacing_retries: Schema.Number,
    cancels_sent: Schema.Number
  }),
  ib_available: Schema.Boolean,
  mode: Mode,
  simulated: Schema.Boolean,
  /** Ready, Degraded, Connecting, Reconnecting, Disconnected; remote: the host's state, or Unreachable. */
  state: Schema.String,
  server_version: Schema.NullOr(Schema.Number),
  farms: Schema.NullOr(Schema.Struct({ hmds: Schema.String, connectivity: Schema.String })),
  /** This process's pace gate. */
  pacing: Schema.Struct({
    waits: Schema.Number,
    total_wait_ms: Schema.Number,
    in_flight: Schema.Number,
    queued: Schema.Number
  }),
  last_error: Schema.NullOr(
    Schema.Struct({
      code: Schema.String,
      ib_code: Schema.Number,
      category: Schema.String,
      message: Schema.String,
      at: Iso
    })
  ),
  /** Remote mode: the host service and the gateway it reaches. */
  host_service: Schema.NullOr(Schema.Struct({
    url: Schema.String,
    reachable: Schema.Boolean,
    error: Schema.NullOr(Schema.String),
    gateway_host: Schema.NullOr(Schema.String),
    gateway_port: Schema.NullOr(Schema.Number)
  }))
})
export type IbStatusData = typeof IbStatusData.Type

export const IbHealth = Schema.Struct({
  healthy: Schema.Boolean,
  /** The session is up (remote: the host says its gateway is ready). */
  connection_ok: Schema.Boolean,
  /**
   * The historical-data farm is up (direct), or the last request through the host did not fail to reach it (remote).
   */
  data_fetching_ok: Schema.Boolean,
  /** Remote mode: this process's last successful request; direct mode: null (not tracked per request yet). */
  last_successful_request: Schema.NullOr(Iso),
  error_message: Schema.NullOr(Schema.String),
  mode: Mode,
  state: Schema.String
})
export type IbHealth = typeof IbHealth.Type

export const IbConfigData = Schema.Struct({
  host: Schema.String,
  port: Schema.Number,
  /** The first client id tried; null in remote mode (the host's session has its own). */
  client_id: Schema.NullOr(Schema.Number),
  /** The ids tried in turn when one is in use (IB 326). */
  client_id_range: Schema.NullOr(Schema.Struct({ min: Schema.Number, max: Schema.Number })),
  /** Seconds a gateway request may take. */
  timeout: Schema.Number,
  /** No order messages exist in this code base. */
  readonly: Schema.Literal(true),
  /** IB's historical pacing rules as this process's pace gate applies them. */
  rate_limit: Schema.Struct({
    max_requests: Schema.Number,
    period_seconds: Schema.Number,
    /** Gap kept between large-bar requests, seconds. */
    pacing_delay: Schema.Number,
    burst_max: Schema.Number,
    burst_period_seconds: Schema.Number,
    identical_request_seconds: Schema.Number,
    max_in_flight: Schema.Number
  }),
  connect_timeout: Schema.Number,
  mode: Mode,
  host_service_url: Schema.NullOr(Schema.String)
})

export const DiscoverRequest = Schema.Struct({
  symbol: SymbolParam,
  /** Ask IB even when the cache has a fresh entry (default false). */
  force_refresh: Schema.optional(BoolBody)
})

export const IbSymbolInfo = Schema.Struct({
  symbol: Schema.String,
  instrument_type: Schema.Literal("stock", "forex", "future", "index"),
  /** The primary listing (KTRDR's `exchange`). */
  exchange: Schema.String,
  currency: Schema.String,
  description: Schema.String,
  /**
   * Epoch seconds (KTRDR's float). The cache keeps one validation per symbol: discovered_at = last_validated,
   * validation_count = 1.
   */
  discovered_at: Schema.Number,
  last_validated: Schema.Number,
  validation_count: Schema.Number,
  /** IB knows the contract (futures: not expired). */
  is_active: Schema.Boolean,
  series_key: Schema.String,
  sec_type: Schema.String,
  con_id: Schema.NullOr(Schema.Number),
  ib_symbol: Schema.String,
  local_symbol: Schema.String,
  routing_exchange: Schema.String,
  time_zone: Schema.String,
  /** IB's tradingHours / liquidHours strings as of the validation; "" when the cache never had them. */
  trading_hours: Schema.String,
  liquid_hours: Schema.String,
  expiry: Schema.NullOr(Schema.String)
})

export const DiscoverResult = Schema.Struct({
  /**
   * null when IB does not know the symbol (KTRDR's answer); `not_found` then says why. A gateway that is down is
   * a 503, not a null (KTRDR could not tell the two apart).
   */
  symbol_info: Schema.NullOr(IbSymbolInfo),
  /** Why symbol_info is null: IB's code and message, with the contracts tried and suggestions in `details`. */
  not_found: Schema.optional(Schema.NullOr(ErrorBody)),
  /** Served from symbol_discovery_cache.json without asking IB. */
  cached: Schema.Boolean,
  discovery_time_ms: Schema.Number
})

/** One `gateway` event of `GET /ib/events`: what /health and /ib/status say, as it changes. */
export const GatewayEvent = Schema.Struct({
  ready: Schema.Boolean,
  /** Ready, Degraded, Connecting, Reconnecting, Disconnected; remote: the host's state, or Unreachable. */
  state: Schema.String,
  mode: Mode,
  simulated: Schema.Boolean,
  /** "unknown" while there is no session; null when not known (remote host unreachable). */
  farms: Schema.NullOr(Schema.Struct({ hmds: Schema.String, connectivity: Schema.String })),
  /** Connecting / Reconnecting: attempts made in this outage, the next attempt's time and the last error. */
  attempt: Schema.NullOr(Schema.Number),
  next_attempt_at: Schema.NullOr(Iso),
  last_error: Schema.NullOr(Schema.String)
})
export type GatewayEvent = typeof GatewayEvent.Type

export class IbGroup extends HttpApiGroup.make("ib")
  .add(HttpApiEndpoint.get("status", "/ib/status").addSuccess(Envelope(IbStatusData)))
  .add(
    HttpApiEndpoint.get("events", "/ib/events")
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })))
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: a `gateway` event (GatewayEvent: ready, state, farms, attempt, next_attempt_at, " +
          "last_error) now and at every change of the gateway session; opens no connection"
      )
  )
  .add(
    HttpApiEndpoint.get("health", "/ib/health")
      .addSuccess(Envelope(IbHealth))
      .annotate(
        OpenApi.Description,
        "Reads the session's state (opens no connection). Unhealthy: 503 IB-UNHEALTHY, the health in error.details"
      )
  )
  .add(HttpApiEndpoint.get("config", "/ib/config").addSuccess(Envelope(IbConfigData)))
  .add(
    HttpApiEndpoint.post("discover", "/ib/symbols/discover")
      .setPayload(DiscoverRequest)
      .addSuccess(Envelope(DiscoverResult))
      .annotate(
        OpenApi.Description,
        "Validate a symbol with IB (through the symbol cache). Unknown: 200 with symbol_info null and `not_found` " +
          "(IB's code, suggestions); gateway down: 503; bad input: 400"
      )
  )
  .addError(BadRequestWire)
  .addError(NotFoundWire)
  .addError(GatewayErrorWire)
  .addError(GatewayUnavailableWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "IB gateway status, health, configuration and symbol discovery")
{}
