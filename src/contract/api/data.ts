/** KTRDR's data endpoints (ktrdr-api-cli.md §2.2) with their paths and field names; defects fixed. */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import {
  BadRequestWire,
  ConflictWire,
  Envelope,
  GatewayErrorWire,
  GatewayUnavailableWire,
  InternalWire,
  NotFoundWire
} from "../envelope.ts"
import { BarsAnswer } from "../ohlcvAnswer.ts"
import { BoolBody, BoolParam } from "../pyBool.ts"
import { TIMEFRAME_IDS } from "../../domain/timeframeIds.ts"
import { Auth } from "./auth.ts"

export { BoolBody, BoolParam } from "../pyBool.ts"

export const TimeframeId = Schema.Literal(...TIMEFRAME_IDS)
export const LoadModeSchema = Schema.Literal("local", "tail", "backfill", "full")

/**
 * Dates as KTRDR accepts them: `YYYY-MM-DD` (midnight UTC) or ISO with time; naive times are UTC. Checked in the
 * handler.
 */
export const DateParam = Schema.String.pipe(Schema.maxLength(40))
/** Symbols are checked by the domain's validator (path safety, length); the schema only bounds the size. */
export const SymbolParam = Schema.String.pipe(Schema.maxLength(64))

export const TradingHours = Schema.Struct({
  timezone: Schema.String,
  regular_hours: Schema.Struct({ start: Schema.String, end: Schema.String, name: Schema.String }),
  extended_hours: Schema.Array(Schema.Struct({ start: Schema.String, end: Schema.String, name: Schema.String })),
  trading_days: Schema.Array(Schema.Number)
})

export const SymbolInfo = Schema.Struct({
  symbol: Schema.String,
  name: Schema.String,
  type: Schema.String,
  exchange: Schema.String,
  currency: Schema.String,
  available_timeframes: Schema.Array(Schema.String),
  trading_hours: Schema.NullOr(TradingHours)
})
export type SymbolInfo = typeof SymbolInfo.Type

export const TimeframeInfo = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.String,
  seconds: Schema.Number.annotations({ description: "Nominal bar length; a month counts 30 days" })
})

export const DataInfo = Schema.Struct({
  data_directory: Schema.String,
  total_symbols: Schema.Number,
  available_symbols: Schema.Array(Schema.String),
  symbol_types: Schema.Record({ key: Schema.String, value: Schema.Number }),
  timeframes_available: Schema.Array(Schema.String),
  total_timeframes: Schema.Number,
  total_series: Schema.Number,
  data_sources: Schema.Array(Schema.String),
  features: Schema.Array(Schema.String)
})

export { BarsAnswer, OhlcvData, OhlcvMetadata } from "../ohlcvAnswer.ts"

export const DataLoadRequest = Schema.Struct({
  symbol: SymbolParam,
  timeframe: TimeframeId,
  mode: Schema.optionalWith(LoadModeSchema, { default: () => "local" as const }),
  start_date: Schema.optional(Schema.NullOr(DateParam)),
  end_date: Schema.optional(Schema.NullOr(DateParam)),
  filters: Schema.optional(Schema.NullOr(Schema.Struct({
    trading_hours_only: Schema.optional(BoolBody),
    include_extended: Schema.optional(BoolBody)
  }))),
  /** Accepted for KTRDR clients; checkpoints follow KTRDR_CHECKPOINT_MS / _SEGMENTS instead. */
  periodic_save_minutes: Schema.optional(Schema.Number.pipe(Schema.greaterThan(0.1), Schema.lessThanOrEqualTo(60))),
  /**
   * An addition: wait for a gateway that cannot be reached (progress phase `waiting_for_gateway` says "waiting for
   * gateway: attempt n, next try in s") instead of failing fast with IB-502. Default false.
   */
  wait_for_gateway: Schema.optional(Schema.Boolean)
})
export type DataLoadRequest = typeof DataLoadRequest.Type

export const DataLoadResponse = Schema.Struct({
  status: Schema.Literal("success", "partial", "failed", "started"),
  operation_id: Schema.NullOr(Schema.String),
  fetched_bars: Schema.Number,
  new_bars: Schema.Number,
  cached_before: Schema.Boolean,
  merged_file: Schema.String,
  gaps_analyzed: Schema.Number,
  segments_fetched: Schema.Number,
  segments_failed: Schema.Number,
  /** Historical requests that reached the gateway, retries included. */
  ib_requests_made: Schema.Number,
  total_bars: Schema.Number,
  execution_time_seconds: Schema.Number,
  error_message: Schema.NullOr(Schema.String),
  /** Additions: contract-details and head-timestamp requests (retries included)… */
  lookup_requests: Schema.optional(Schema.Number),
  /** …requests sent again after a failure, and why (failure category → count). */
  requests_retried: Schema.optional(Schema.Number),
  retry_reasons: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number }))
})
export type DataLoadResponse = typeof DataLoadResponse.Type

/** KTRDR's `DataAcquisitionResponse` (current generation): flat, always `started`. */
export const DataAcquisitionResponse = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: Schema.String,
  status: Schema.Literal("started"),
  message: Schema.String.annotations({ description: "`Started <mode> download for <symbol> <timeframe>`" })
})

export const DataRangeRequest = Schema.Struct({ symbol: SymbolParam, timeframe: TimeframeId })
export const DataRangeInfo = Schema.Struct({
  symbol: Schema.String,
  timeframe: Schema.String,
  start_date: Schema.String,
  end_date: Schema.String,
  /** Counted, not estimated. */
  point_count: Schema.Number
})

export class DataGroup extends HttpApiGroup.make("data")
  .add(HttpApiEndpoint.get("symbols", "/symbols").addSuccess(Envelope(Schema.Array(SymbolInfo))))
  .add(HttpApiEndpoint.get("timeframes", "/timeframes").addSuccess(Envelope(Schema.Array(TimeframeInfo))))
  .add(HttpApiEndpoint.get("info", "/data/info").addSuccess(Envelope(DataInfo)))
  .add(
    HttpApiEndpoint.get("bars", "/data/:symbol/:timeframe")
      .setPath(Schema.Struct({ symbol: SymbolParam, timeframe: TimeframeId }))
      .setUrlParams(Schema.Struct({
        start_date: Schema.optional(DateParam),
        end_date: Schema.optional(DateParam),
        trading_hours_only: Schema.optional(BoolParam),
        include_extended: Schema.optional(BoolParam),
        /** KTRDR (current): only the newest N bars of the range. */
        limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 100_000))),
        /** Older ktrdr-ts name of `limit`, with a higher cap; `limit` wins when both are given. */
        tail: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1_000_000)))
      }))
      .addSuccess(BarsAnswer)
      .annotate(
        OpenApi.Description,
        "Stored bars of a series in [start_date, end_date] (inclusive; never calls IB); " +
          "404 DATA-NotFound when the series is not stored at all, 200 with empty arrays when it is but the range " +
          "holds no bars. " +
          "trading_hours_only keeps bars inside the regular session of the instrument's calendar, " +
          "include_extended adds pre-market and after-hours"
      )
  )
  .add(
    HttpApiEndpoint.post("load", "/data/load")
      .setUrlParams(Schema.Struct({ async_mode: Schema.optional(BoolParam) }))
      .setPayload(DataLoadRequest)
      .addSuccess(Envelope(DataLoadResponse))
      .addError(GatewayErrorWire)
      .addError(GatewayUnavailableWire)
      .addError(ConflictWire)
      .annotate(
        OpenApi.Description,
        "Load a series (local, tail, backfill, full). async_mode=true returns an operation id at once"
      )
  )
  .add(
    HttpApiEndpoint.post("acquireDownload", "/data/acquire/download")
      .setUrlParams(Schema.Struct({ async_mode: Schema.optional(BoolParam) }))
      .setPayload(DataLoadRequest)
      .addSuccess(DataAcquisitionResponse)
      .addError(GatewayErrorWire)
      .addError(GatewayUnavailableWire)
      .addError(ConflictWire)
      .annotate(
        OpenApi.Description,
        "KTRDR's current load endpoint: starts the load as an operation and answers at once with its id " +
          "(flat reply). `async_mode` is accepted and ignored, as KTRDR does; watch GET /operations/{id}"
      )
  )
  .add(
    HttpApiEndpoint.post("range", "/data/range")
      .setPayload(DataRangeRequest)
      .addSuccess(Envelope(DataRangeInfo))
      .annotate(
        OpenApi.Description,
        "First and last stored bar and their exact count; 404 DATA-NotFound when the series is not stored"
      )
  )
  .addError(BadRequestWire)
  .addError(NotFoundWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "Stored market data and loads")
{}
