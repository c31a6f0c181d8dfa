/** KTRDR's operations endpoints (§2.3), plus a live Server-Sent Events stream of one operation. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { OperationInfo, OperationStatus, OperationSummary, OperationType } from "../../domain/operation.ts"
import { BadRequestWire, ConflictWire, Envelope, InternalWire, NotFoundWire } from "../envelope.ts"
import { Auth } from "./auth.ts"
import { BoolBody, BoolParam } from "../pyBool.ts"

const OperationId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))

/** Every status KTRDR's clients may filter by (current generation); ours are a subset, `resuming` never matches. */
export const KtrdrOperationStatus = Schema.Literal("pending", "resuming", "running", "completed", "failed", "cancelled")
/** Every operation type KTRDR's clients may filter by; this server runs only `data_load`. */
export const KtrdrOperationType = Schema.Literal(
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

/** OperationInfo with the current generation's two keys. */
export const KtrdrOperationInfo = Schema.extend(
  OperationInfo,
  Schema.Struct({
    parent_operation_id: Schema.NullOr(Schema.String).annotations({
      description: "Always null here: a load has no parent operation"
    }),
    is_backend_local: Schema.Boolean.annotations({
      description: "True: every load runs inside this server process (there are no workers)"
    })
  })
)
export type KtrdrOperationInfo = typeof KtrdrOperationInfo.Type

export const OperationList = Schema.Struct({
  success: Schema.Literal(true),
  data: Schema.Array(OperationSummary),
  total_count: Schema.Number,
  active_count: Schema.Number,
  error: Schema.Null
})

export const CancelRequest = Schema.Struct({
  reason: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(500)))),
  /** Accepted for KTRDR clients; a cancel always interrupts the load and waits for its checkpoint. */
  force: Schema.optional(BoolBody)
})

export const CancelResult = Schema.Struct({
  success: Schema.Boolean,
  operation_id: Schema.String,
  status: OperationStatus,
  cancelled_at: Schema.String,
  cancellation_reason: Schema.NullOr(Schema.String),
  task_cancelled: Schema.Boolean,
  training_session_cancelled: Schema.Boolean,
  /** Always false: there are no remote workers; the load ran in this process. */
  remote_cancelled: Schema.Boolean,
  /** Always empty: a load has no child operations. */
  children_cancelled: Schema.Array(Schema.String),
  /** The operation after the cancel: what the load had fetched and what is stored. */
  operation: KtrdrOperationInfo
})

export const OperationResults = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: Schema.String,
  operation_type: OperationType,
  status: OperationStatus,
  results: Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
    description: "The operation's result_summary ({} when it failed before producing one)"
  })
})

export const OperationMetrics = Schema.Struct({
  operation_id: Schema.String,
  operation_type: OperationType,
  metrics: Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
    description: "What POST …/metrics stored for this operation (merged), {} when nothing was posted. " +
      "KTRDR sent a [list, cursor] array here (a bug)"
  })
})

export const MetricsPosted = Schema.Struct({
  success: Schema.Literal(true),
  message: Schema.String,
  operation_id: Schema.String
})

export const StatusUpdate = Schema.Struct({
  status: Schema.String.pipe(Schema.maxLength(20)),
  error_message: Schema.optional(Schema.NullOr(Schema.String.pipe(Schema.maxLength(2000))))
})

export const StatusUpdated = Schema.Struct({
  success: Schema.Literal(true),
  operation_id: Schema.String,
  previous_status: OperationStatus,
  new_status: OperationStatus
})

export const ResumeResult = Schema.Struct({
  operation_id: Schema.String.annotations({
    description: "The operation now running: a new load that continues from the stored bars (poll this id)"
  }),
  status: OperationStatus,
  resumed_from: Schema.Struct({
    checkpoint_type: Schema.Literal("cancellation", "failure"),
    created_at: Schema.String,
    epoch: Schema.Null
  }),
  resumed_operation_id: Schema.String.annotations({ description: "The failed or cancelled operation resumed" })
})

const IntParam = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))

export class OperationsGroup extends HttpApiGroup.make("operations")
  .add(
    HttpApiEndpoint.get("list", "/operations")
      .setUrlParams(Schema.Struct({
        status: Schema.optional(KtrdrOperationStatus),
        operation_type: Schema.optional(KtrdrOperationType),
        limit: Schema.optional(IntParam(1, 1000)),
        offset: Schema.optional(IntParam(0, 1_000_000)),
        active_only: Schema.optional(BoolParam)
      }))
      .addSuccess(OperationList)
  )
  .add(
    HttpApiEndpoint.get("get", "/operations/:id").setPath(Schema.Struct({ id: OperationId })).addSuccess(
      Envelope(KtrdrOperationInfo)
    )
  )
  .add(
    HttpApiEndpoint.get("children", "/operations/:id/children")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(OperationList)
      .annotate(OpenApi.Description, "Child operations (a load has none: an empty list); 404 for an unknown parent")
  )
  .add(
    HttpApiEndpoint.get("results", "/operations/:id/results")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(OperationResults)
      .annotate(OpenApi.Description, "The result of a completed or failed operation; 400 while it runs")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/operations/:id/metrics")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(Envelope(OperationMetrics))
  )
  .add(
    HttpApiEndpoint.post("postMetrics", "/operations/:id/metrics")
      .setPath(Schema.Struct({ id: OperationId }))
      .setPayload(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
      .addSuccess(MetricsPosted)
      .annotate(OpenApi.Description, "Merge a JSON object into the operation's metrics (kept while the operation is)")
  )
  .add(
    HttpApiEndpoint.post("resume", "/operations/:id/resume")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(Envelope(ResumeResult))
      .annotate(
        OpenApi.Description,
        "Resume a failed or cancelled load: a new load of the same request continues from the bars already stored. " +
          "409 while running or once completed"
      )
  )
  .add(
    HttpApiEndpoint.patch("setStatus", "/operations/:id/status")
      .setPath(Schema.Struct({ id: OperationId }))
      .setPayload(StatusUpdate)
      .addSuccess(StatusUpdated)
      .annotate(
        OpenApi.Description,
        "KTRDR's worker callback. A load's status is its own: `cancelled` cancels it, its current status is a no-op, " +
          "anything else is 409"
      )
  )
  .add(
    HttpApiEndpoint.del("cancel", "/operations/:id")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(Envelope(CancelResult))
      .annotate(
        OpenApi.Description,
        "Cancel a running load. Optional JSON body {reason, force}; the answer comes once the checkpoint is saved"
      )
  )
  .add(
    HttpApiEndpoint.post("retry", "/operations/:id/retry").setPath(Schema.Struct({ id: OperationId })).addSuccess(
      Envelope(KtrdrOperationInfo)
    )
  )
  .add(
    HttpApiEndpoint.get("events", "/operations/:id/events")
      .setPath(Schema.Struct({ id: OperationId }))
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" })))
      .annotate(
        OpenApi.Description,
        "Server-Sent Events: `progress` events with the OperationInfo, then one `end` event with the final state"
      )
  )
  .addError(BadRequestWire)
  .addError(NotFoundWire)
  .addError(ConflictWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "Running and recent loads: status, cancel, retry, live events")
{}
