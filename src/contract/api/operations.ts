/** KTRDR's operations endpoints (§2.3), plus a live Server-Sent Events stream of one operation. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { OperationInfo, OperationStatus, OperationSummary, OperationType } from "../../domain/operation.ts"
import { BadRequestWire, ConflictWire, Envelope, InternalWire, NotFoundWire } from "../envelope.ts"
import { Auth } from "./auth.ts"
import { BoolParam } from "./data.ts"

const OperationId = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))

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
  force: Schema.optional(Schema.Boolean)
})

export const CancelResult = Schema.Struct({
  success: Schema.Boolean,
  operation_id: Schema.String,
  status: OperationStatus,
  cancelled_at: Schema.String,
  cancellation_reason: Schema.NullOr(Schema.String),
  task_cancelled: Schema.Boolean,
  training_session_cancelled: Schema.Boolean,
  /** The operation after the cancel: what the load had fetched and what is stored. */
  operation: OperationInfo
})

const IntParam = (min: number, max: number) => Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max))

export class OperationsGroup extends HttpApiGroup.make("operations")
  .add(
    HttpApiEndpoint.get("list", "/operations")
      .setUrlParams(Schema.Struct({
        status: Schema.optional(OperationStatus),
        operation_type: Schema.optional(OperationType),
        limit: Schema.optional(IntParam(1, 1000)),
        offset: Schema.optional(IntParam(0, 1_000_000)),
        active_only: Schema.optional(BoolParam)
      }))
      .addSuccess(OperationList)
  )
  .add(
    HttpApiEndpoint.get("get", "/operations/:id").setPath(Schema.Struct({ id: OperationId })).addSuccess(
      Envelope(OperationInfo)
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
      Envelope(OperationInfo)
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
