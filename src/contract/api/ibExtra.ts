/**
 * The rest of KTRDR's /ib router (ktrdr-api-contract.md §5): resilience, circuit breakers, cleanup, data ranges,
 * discovered symbols and `PUT /ib/config`, in KTRDR's `ApiResponse` shapes. KTRDR's ranges and discovered-symbols
 * endpoints were stubs; here they answer from the store and the symbol cache.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BadRequestWire, ConflictWire, Envelope, InternalWire, NotFoundWire } from "../envelope.ts"
import { Auth } from "./auth.ts"

export const Resilience = Schema.Struct({
  /** `direct`: this process owns the gateway session; `host_service`: another server's, through its /ib API. */
  architecture: Schema.Literal("direct", "host_service"),
  host_service_health: Schema.Struct({
    healthy: Schema.Boolean,
    connected: Schema.Boolean,
    provider_info: Schema.Struct({ mode: Schema.String, state: Schema.String, simulated: Schema.Boolean })
  }),
  features: Schema.Struct({
    http_communication: Schema.String,
    rate_limiting: Schema.String,
    connection_management: Schema.String
  }),
  /** `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (Python isoformat). */
  timestamp: Schema.String
})

export const CircuitBreakers = Schema.Struct({
  circuit_breakers: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  summary: Schema.Struct({
    total_breakers: Schema.Number,
    open_breakers: Schema.Number,
    half_open_breakers: Schema.Number
  })
})

export const Cleanup = Schema.Struct({
  success: Schema.Literal(true),
  message: Schema.String,
  note: Schema.String,
  architecture: Schema.Literal("direct", "host_service")
})

export const RangeInfo = Schema.Struct({
  earliest_date: Schema.NullOr(Schema.String),
  latest_date: Schema.NullOr(Schema.String),
  total_days: Schema.NullOr(Schema.Number),
  /** True: read from the local store (nothing is asked of IB). */
  cached: Schema.Boolean
})

export const DataRanges = Schema.Struct({
  symbols: Schema.Array(Schema.Struct({
    symbol: Schema.String,
    /** null for a timeframe with no stored bars. */
    ranges: Schema.Record({ key: Schema.String, value: Schema.NullOr(RangeInfo) })
  })),
  requested_timeframes: Schema.Array(Schema.String),
  cache_stats: Schema.Struct({ stored_series: Schema.Number, missing_series: Schema.Number })
})

/** KTRDR's IB SymbolInfo, as a symbol-cache entry gives it. */
export const CachedSymbol = Schema.Struct({
  symbol: Schema.String,
  instrument_type: Schema.String,
  exchange: Schema.String,
  currency: Schema.String,
  description: Schema.String,
  discovered_at: Schema.NullOr(Schema.Number),
  last_validated: Schema.NullOr(Schema.Number),
  validation_count: Schema.Number,
  is_active: Schema.Boolean
})

export const DiscoveredSymbols = Schema.Struct({
  symbols: Schema.Array(CachedSymbol),
  total_count: Schema.Number,
  instrument_types: Schema.Record({ key: Schema.String, value: Schema.Number }),
  cache_stats: Schema.Struct({ cached_symbols: Schema.Number, file: Schema.String })
})

const IbConfigView = Schema.Struct({
  host: Schema.String,
  port: Schema.Number,
  client_id_range: Schema.NullOr(Schema.Struct({ min: Schema.Number, max: Schema.Number })),
  timeout: Schema.Number,
  readonly: Schema.Literal(true),
  rate_limit: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

export const IbConfigUpdate = Schema.Struct({
  port: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.between(1, 65535)))),
  host: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(255)))),
  client_id: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.between(0, 999999))))
})

export const IbConfigUpdated = Schema.Struct({
  previous_config: IbConfigView,
  new_config: IbConfigView,
  reconnect_required: Schema.Boolean
})

export class IbExtraGroup extends HttpApiGroup.make("ibExtra")
  .add(HttpApiEndpoint.get("resilience", "/ib/resilience").addSuccess(Envelope(Resilience)))
  .add(
    HttpApiEndpoint.get("circuitBreakers", "/ib/circuit-breakers")
      .addSuccess(Envelope(CircuitBreakers))
      .annotate(
        OpenApi.Description,
        "None exist: failed gateway requests are retried by Schedule and reconnects back off; nothing trips open"
      )
  )
  .add(
    HttpApiEndpoint.post("cleanup", "/ib/cleanup")
      .addSuccess(Envelope(Cleanup))
      .annotate(OpenApi.Description, "Nothing to clean: the gateway session is scoped and closed with the server")
  )
  .add(
    HttpApiEndpoint.get("ranges", "/ib/ranges")
      .setUrlParams(Schema.Struct({
        symbols: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(2000)),
        timeframes: Schema.optional(Schema.String.pipe(Schema.maxLength(200)))
      }))
      .addSuccess(Envelope(DataRanges))
      .annotate(OpenApi.Description, "Stored range per symbol and timeframe (comma lists; timeframes default 1d)")
  )
  .add(
    HttpApiEndpoint.get("discovered", "/ib/symbols/discovered")
      .setUrlParams(Schema.Struct({ instrument_type: Schema.optional(Schema.String.pipe(Schema.maxLength(40))) }))
      .addSuccess(Envelope(DiscoveredSymbols))
      .annotate(OpenApi.Description, "The symbols in symbol_discovery_cache.json, optionally of one instrument_type")
  )
  .add(
    HttpApiEndpoint.put("updateConfig", "/ib/config")
      .setPayload(IbConfigUpdate)
      .addSuccess(Envelope(IbConfigUpdated))
      .annotate(
        OpenApi.Description,
        "The gateway address is fixed for the server's life (KTRDR_IB_HOST / KTRDR_IB_PORT): the current values are " +
          "accepted (reconnect_required false), other ones are 409 — restart the server with them"
      )
  )
  .addError(BadRequestWire)
  .addError(ConflictWire)
  .addError(NotFoundWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "IB resilience, circuit breakers, data ranges, discovered symbols, config update")
{}
