/**
 * KTRDR's response models, written from /work/shared/reference/ktrdr-api-contract.md (both generations) and NOT
 * from our contract: a test decodes live answers with these, so a drift of src/contract from KTRDR's wire shape
 * fails here. Extra keys are allowed (pydantic clients ignore them); every key KTRDR's model has is required, with
 * its type and, for timestamps, its exact format (§1.1).
 */
import { Schema } from "effect"

const S = Schema.String
const N = Schema.Number
const B = Schema.Boolean
const Obj = Schema.Record({ key: S, value: Schema.Unknown })
const nullable = <A, I>(s: Schema.Schema<A, I>) => Schema.NullOr(s)
const Int = N.pipe(Schema.int())

/** `dates[]`: UTC wall clock, no zone, no fraction. */
export const NaiveSecond = S.pipe(Schema.pattern(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/))
/** A pydantic datetime holding an aware UTC value: `Z`, a fraction only when there is one. */
export const PydanticUtc = S.pipe(Schema.pattern(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/))
/** Python `isoformat()` of an aware UTC value. */
export const PythonIso = S.pipe(Schema.pattern(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/))
/** Epoch seconds as a float (time.time()). */
export const EpochSeconds = N.pipe(Schema.greaterThan(1e9), Schema.lessThan(1e10))

/** ApiResponse: all three keys, always. */
export const ApiResponse = <A, I>(data: Schema.Schema<A, I>) =>
  Schema.Struct({ success: Schema.Literal(true), data, error: Schema.Null })

/** What every KTRDR client reads from a non-2xx answer: `detail` (then `message`), a human string. */
export const ErrorForClients = Schema.Struct({ detail: S.pipe(Schema.minLength(1)), message: S })

// §3.1
export const OHLCVData = Schema.Struct({
  dates: Schema.Array(NaiveSecond),
  ohlcv: Schema.Array(Schema.Tuple(nullable(N), nullable(N), nullable(N), nullable(N), nullable(N))),
  points: Schema.Null,
  metadata: Schema.Struct({ symbol: S, timeframe: S })
})
export const OHLCVWithData = Schema.Struct({
  ...OHLCVData.fields,
  metadata: Schema.Struct({ symbol: S, timeframe: S, start_date: PythonIso, end_date: PythonIso, point_count: Int })
})
export const OHLCVEmpty = Schema.Struct({
  ...OHLCVData.fields,
  metadata: Schema.Struct({
    symbol: S,
    timeframe: S,
    start: Schema.Literal(""),
    end: Schema.Literal(""),
    points: Schema.Literal(0)
  })
})
export const OHLCVLimited = Schema.Struct({
  ...OHLCVWithData.fields,
  metadata: Schema.Struct({
    ...OHLCVWithData.fields.metadata.fields,
    points: Int,
    limited: Schema.Literal(true),
    original_points: Int
  })
})

// §3.2
export const DataAcquisitionResponse = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: S.pipe(Schema.pattern(/^op_data_load_\d{8}_\d{6}_[0-9a-f]{8}$/)),
  status: Schema.Literal("started"),
  message: S.pipe(Schema.pattern(/^Started (tail|backfill|full|local) download for \S+ \S+$/))
})
export const DataLoadOperationResponse = ApiResponse(Schema.Struct({
  status: Schema.Literal("success", "partial", "failed", "started"),
  operation_id: nullable(S),
  fetched_bars: Int,
  cached_before: B,
  merged_file: S,
  gaps_analyzed: Int,
  segments_fetched: Int,
  ib_requests_made: Int,
  execution_time_seconds: N,
  error_message: nullable(S)
}))

// §3.4 – 3.6
export const DataRangeInfo = ApiResponse(Schema.Struct({
  symbol: S,
  timeframe: S,
  start_date: S.pipe(Schema.pattern(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?$/)),
  end_date: S.pipe(Schema.pattern(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ?$/)),
  point_count: Int
}))
export const DataInfo = ApiResponse(Schema.Struct({
  data_directory: S,
  total_symbols: Int,
  available_symbols: Schema.Array(S),
  symbol_types: Schema.Record({ key: S, value: Int }),
  timeframes_available: Schema.Array(S),
  total_timeframes: Int,
  data_sources: Schema.Array(S),
  features: Schema.Array(S)
}))
const TradingHours = Schema.Struct({
  timezone: S,
  regular_hours: Obj,
  extended_hours: Schema.Array(Obj),
  trading_days: Schema.Array(Int)
})
export const Symbols = ApiResponse(Schema.Array(Schema.Struct({
  symbol: S,
  name: S,
  type: S,
  exchange: S,
  currency: S,
  available_timeframes: Schema.Array(S),
  trading_hours: nullable(TradingHours)
})))
export const Timeframes = ApiResponse(Schema.Array(Schema.Struct({ id: S, name: S, description: S })))

// §4
export const OperationStatus = Schema.Literal("pending", "resuming", "running", "completed", "failed", "cancelled")
export const OperationType = Schema.Literal(
  "data_load",
  "training",
  "backtesting",
  "indicator_compute",
  "fuzzy_analysis",
  "dummy",
  "agent_research",
  "agent_design",
  "agent_assessment"
)
export const OperationProgress = Schema.Struct({
  percentage: N.pipe(Schema.between(0, 100)),
  current_step: nullable(S),
  steps_completed: Int.pipe(Schema.nonNegative()),
  steps_total: Int.pipe(Schema.nonNegative()),
  items_processed: Int.pipe(Schema.nonNegative()),
  items_total: nullable(Int),
  current_item: nullable(S),
  context: Schema.optional(Obj)
})
export const OperationInfo = Schema.Struct({
  operation_id: S,
  parent_operation_id: nullable(S),
  operation_type: OperationType,
  status: OperationStatus,
  created_at: PydanticUtc,
  started_at: nullable(PydanticUtc),
  completed_at: nullable(PydanticUtc),
  progress: OperationProgress,
  metadata: Schema.Struct({
    symbol: nullable(S),
    timeframe: nullable(S),
    mode: nullable(S),
    start_date: nullable(S),
    end_date: nullable(S),
    parameters: Obj
  }),
  error_message: nullable(S),
  warnings: Schema.Array(S),
  errors: Schema.Array(S),
  result_summary: nullable(Obj),
  is_backend_local: B
})
export const OperationStatusResponse = Schema.Struct({ success: Schema.Literal(true), data: OperationInfo })
export const OperationSummary = Schema.Struct({
  operation_id: S,
  operation_type: OperationType,
  status: OperationStatus,
  created_at: PydanticUtc,
  progress_percentage: N,
  current_step: nullable(S),
  symbol: nullable(S),
  duration_seconds: nullable(N)
})
export const OperationList = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Array(OperationSummary),
  total_count: Int,
  active_count: Int
})
export const CancelResponse = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Struct({
    success: B,
    operation_id: S,
    status: Schema.Literal("cancelled"),
    cancelled_at: S,
    cancellation_reason: nullable(S),
    task_cancelled: B,
    remote_cancelled: B,
    children_cancelled: Schema.Array(S)
  })
})
export const ResultsResponse = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: S,
  operation_type: OperationType,
  status: OperationStatus,
  results: Obj
})
export const MetricsResponse = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Struct({ operation_id: S, operation_type: OperationType, metrics: Schema.Unknown })
})
export const MetricsPostResponse = Schema.Struct({ success: Schema.Literal(true), message: S, operation_id: S })
export const ResumeResponse = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Struct({
    operation_id: S,
    status: OperationStatus,
    resumed_from: Schema.Struct({ checkpoint_type: S, created_at: S, epoch: nullable(Int) })
  })
})
export const StatusUpdateResponse = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: S,
  previous_status: OperationStatus,
  new_status: OperationStatus
})

// §5
export const IbStatusResponse = ApiResponse(Schema.Struct({
  connection: Schema.Struct({
    connected: B,
    host: S,
    port: Int,
    client_id: nullable(Int),
    connection_time: nullable(PydanticUtc)
  }),
  connection_metrics: Schema.Struct({
    total_connections: Int,
    failed_connections: Int,
    last_connect_time: nullable(EpochSeconds),
    last_disconnect_time: nullable(EpochSeconds),
    uptime_seconds: nullable(N)
  }),
  data_metrics: Schema.Struct({
    total_requests: Int,
    successful_requests: Int,
    failed_requests: Int,
    total_bars_fetched: Int,
    success_rate: N.pipe(Schema.between(0, 100))
  }),
  ib_available: B
}))
export const IbHealthStatus = ApiResponse(Schema.Struct({
  healthy: B,
  connection_ok: B,
  data_fetching_ok: B,
  last_successful_request: Schema.Unknown,
  error_message: nullable(S)
}))
export const IbConfigInfo = Schema.Struct({
  host: S,
  port: Int,
  client_id_range: Schema.Struct({ min: Int, max: Int }),
  timeout: N,
  readonly: B,
  rate_limit: Obj
})
export const IbConfigResponse = ApiResponse(IbConfigInfo)
export const IbConfigUpdateResponse = ApiResponse(Schema.Struct({
  previous_config: IbConfigInfo,
  new_config: IbConfigInfo,
  reconnect_required: B
}))
export const IbSymbolInfo = Schema.Struct({
  symbol: S,
  instrument_type: S,
  exchange: S,
  currency: S,
  description: S,
  discovered_at: EpochSeconds,
  last_validated: EpochSeconds,
  validation_count: Int,
  is_active: B
})
export const SymbolDiscoveryResponse = ApiResponse(Schema.Struct({
  symbol_info: nullable(IbSymbolInfo),
  cached: B,
  discovery_time_ms: N
}))
export const DataRangesResponse = ApiResponse(Schema.Struct({
  symbols: Schema.Array(Schema.Struct({
    symbol: S,
    ranges: Schema.Record({
      key: S,
      value: nullable(Schema.Struct({
        earliest_date: nullable(PydanticUtc),
        latest_date: nullable(PydanticUtc),
        total_days: nullable(Int),
        cached: B
      }))
    })
  })),
  requested_timeframes: Schema.Array(S),
  cache_stats: Obj
}))
export const ResilienceResponse = ApiResponse(Schema.Struct({
  architecture: S,
  host_service_health: Schema.Struct({ healthy: B, connected: B, provider_info: Schema.Unknown }),
  features: Schema.Struct({ http_communication: S, rate_limiting: S, connection_management: S }),
  timestamp: PythonIso
}))
export const CircuitBreakersResponse = ApiResponse(Schema.Struct({
  circuit_breakers: Obj,
  summary: Schema.Struct({ total_breakers: Int, open_breakers: Int, half_open_breakers: Int })
}))
export const CleanupResponse = ApiResponse(Schema.Struct({ success: B, message: S, note: S, architecture: S }))
export const DiscoveredResponse = ApiResponse(Schema.Struct({
  symbols: Schema.Array(Schema.Struct({
    ...IbSymbolInfo.fields,
    discovered_at: nullable(EpochSeconds),
    last_validated: nullable(EpochSeconds)
  })),
  total_count: Int,
  instrument_types: Obj,
  cache_stats: Obj
}))

// §6
export const Health = Schema.Struct({ status: Schema.Literal("ok"), version: S })
export const WorkerEndpoint = Schema.Struct({
  worker_id: S,
  worker_type: S,
  endpoint_url: S,
  status: S,
  current_operation_id: nullable(S),
  capabilities: Obj,
  last_health_check: nullable(S),
  last_healthy_at: nullable(S),
  health_check_failures: Int,
  metadata: Obj
})
export const Workers = Schema.Array(WorkerEndpoint)
export const CheckpointList = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Array(Schema.Struct({
    operation_id: S,
    checkpoint_type: S,
    created_at: S,
    state_summary: Obj,
    artifacts_size_bytes: nullable(Int)
  })),
  total_count: Int
})

// §3.7
export const GapAnalysisMode = Schema.Literal("quick", "normal", "detailed", "comprehensive")
export const GapInfoModel = Schema.Struct({
  start_time: PythonIso,
  end_time: PythonIso,
  duration_hours: N,
  gap_type: Schema.Literal(
    "expected_weekend",
    "expected_trading_hours",
    "expected_holiday",
    "market_closure",
    "unexpected"
  ),
  severity: Schema.Literal("critical", "major", "minor"),
  market_hours: B,
  trading_session: nullable(S),
  volume_impact: Schema.Unknown,
  price_impact: Schema.Unknown
})
export const GapAnalysisResponse = Schema.Struct({
  success: B,
  symbol: S,
  timeframe: S,
  start_date: PythonIso,
  end_date: PythonIso,
  summary: Schema.Struct({
    total_gaps: Int,
    critical_gaps: Int,
    major_gaps: Int,
    minor_gaps: Int,
    total_missing_hours: N,
    coverage_percentage: N.pipe(Schema.between(0, 100)),
    data_quality_score: N.pipe(Schema.between(0, 100))
  }),
  gaps: Schema.Array(GapInfoModel),
  analysis_mode: GapAnalysisMode,
  generated_at: S
})
export const BatchGapAnalysisResponse = Schema.Struct({
  success: B,
  timeframe: S,
  start_date: S,
  end_date: S,
  results: Schema.Record({ key: S, value: GapAnalysisResponse }),
  overall_summary: Schema.Struct({
    symbols_requested: Int,
    symbols_successful: Int,
    symbols_failed: Int,
    mode: S,
    errors: Schema.Array(Schema.Struct({ symbol: S, error: S }))
  }),
  generated_at: S
})
