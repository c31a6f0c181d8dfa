/** /workers and /checkpoints: what exists here is nothing (see contract/api/system.ts), said in KTRDR's shapes. */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { KtrdrApi } from "../../contract/Api.ts"
import { NotFoundError } from "../../contract/envelope.ts"

const checkpointNotFound = (id: string) =>
  new NotFoundError({
    code: "CHECKPOINTS-NotFound",
    message: `Checkpoint not found: ${id}`,
    details: { operation_id: id, why: "loads keep no checkpoint records: their bars are saved as they arrive" }
  })

export const SystemLiveHandlers = HttpApiBuilder.group(KtrdrApi, "system", (handlers) =>
  Effect.succeed(
    handlers
      .handle("workers", () => Effect.succeed([]))
      .handle("worker", ({ path }) =>
        Effect.fail(
          new NotFoundError({
            code: "WORKERS-NotFound",
            message: `Worker not found: ${path.worker_id}`,
            details: { worker_id: path.worker_id }
          })
        ))
      .handle("checkpoints", () => Effect.succeed({ success: true as const, data: [], total_count: 0 }))
      .handle("checkpoint", ({ path }) => Effect.fail(checkpointNotFound(path.operation_id)))
      .handle("deleteCheckpoint", ({ path }) => Effect.fail(checkpointNotFound(path.operation_id)))
  ))
