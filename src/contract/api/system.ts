/**
 * KTRDR's current-generation `/workers` and `/checkpoints` routers, answered with what exists here. Every load runs
 * inside this server process, so there are no workers (an empty list is the true answer); a load's progress is saved
 * into the series file itself as it goes, and resuming continues from those bars, so there are no separate
 * checkpoint records either (every lookup is KTRDR's 404 "Checkpoint not found").
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BadRequestWire, InternalWire, NotFoundWire } from "../envelope.ts"
import { Auth } from "./auth.ts"

export const WorkerType = Schema.Literal(
  "backtesting",
  "training",
  "cpu_training",
  "gpu_host",
  "agent_design",
  "agent_assessment"
)

/** KTRDR's WorkerEndpoint (`to_dict`). */
export const WorkerEndpoint = Schema.Struct({
  worker_id: Schema.String,
  worker_type: WorkerType,
  endpoint_url: Schema.String,
  status: Schema.Literal("available", "busy", "temporarily_unavailable"),
  current_operation_id: Schema.NullOr(Schema.String),
  capabilities: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  last_health_check: Schema.NullOr(Schema.String),
  last_healthy_at: Schema.NullOr(Schema.String),
  health_check_failures: Schema.Number,
  metadata: Schema.Record({ key: Schema.String, value: Schema.Unknown })
})

export const CheckpointSummary = Schema.Struct({
  operation_id: Schema.String,
  checkpoint_type: Schema.String,
  created_at: Schema.String,
  state_summary: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  artifacts_size_bytes: Schema.NullOr(Schema.Number)
})

const Id = Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))

export class SystemGroup extends HttpApiGroup.make("system")
  .add(
    HttpApiEndpoint.get("workers", "/workers")
      .setUrlParams(Schema.Struct({
        worker_type: Schema.optional(WorkerType),
        status: Schema.optional(Schema.String.pipe(Schema.maxLength(40)))
      }))
      .addSuccess(Schema.Array(WorkerEndpoint))
      .annotate(OpenApi.Description, "Registered workers: a bare array, always empty here (loads run in-process)")
  )
  .add(
    HttpApiEndpoint.get("worker", "/workers/:worker_id")
      .setPath(Schema.Struct({ worker_id: Id }))
      .addSuccess(WorkerEndpoint)
      .annotate(OpenApi.Description, "One worker; 404 `Worker not found: <id>` (there are none)")
  )
  .add(
    HttpApiEndpoint.get("checkpoints", "/checkpoints")
      .setUrlParams(Schema.Struct({
        older_than_days: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 100_000)))
      }))
      .addSuccess(Schema.Struct({
        success: Schema.Literal(true),
        data: Schema.Array(CheckpointSummary),
        total_count: Schema.Number
      }))
      .annotate(OpenApi.Description, "Checkpoint records: none (a load saves its bars into the series file)")
  )
  .add(
    HttpApiEndpoint.get("checkpoint", "/checkpoints/:operation_id")
      .setPath(Schema.Struct({ operation_id: Id }))
      .addSuccess(Schema.Struct({
        success: Schema.Literal(true),
        data: Schema.Struct({
          operation_id: Schema.String,
          checkpoint_type: Schema.String,
          created_at: Schema.String,
          state: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
          artifacts_path: Schema.NullOr(Schema.String)
        })
      }))
      .annotate(OpenApi.Description, "404 `Checkpoint not found: <id>`: resume continues from the stored bars instead")
  )
  .add(
    HttpApiEndpoint.del("deleteCheckpoint", "/checkpoints/:operation_id")
      .setPath(Schema.Struct({ operation_id: Id }))
      .addSuccess(Schema.Struct({ success: Schema.Literal(true), message: Schema.String }))
  )
  .addError(BadRequestWire)
  .addError(NotFoundWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "KTRDR's workers and checkpoints (none exist in this server)")
{}
