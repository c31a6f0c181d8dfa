/**
 * A load is a durable workflow keyed by its operation id. Its one activity runs the operation (runOperation.ts) on the
 * runner that owns the workflow's shard; the segment fetches inside it go to the gateways' owners (ClusterIb). If that
 * runner dies, the cluster resumes the workflow on another runner and the activity runs again, finding the segments
 * already stored. Retries and cancels go through the operations table, not through the workflow engine: an engine
 * interrupt only lands at a suspension point (reference §6), and a load has none.
 */
import { Activity, Workflow } from "@effect/workflow"
import { Schema } from "effect"
import { executeOperation } from "./runOperation.ts"

export const LoadWorkflow = Workflow.make({
  name: "ktrdr/DataLoad",
  payload: { operationId: Schema.String },
  idempotencyKey: ({ operationId }) => operationId
})

export const LoadWorkflowLive = LoadWorkflow.toLayer(({ operationId }) =>
  Activity.make({ name: "load", execute: executeOperation(operationId) })
)
