/**
 * `GET /api/v1/health`: KTRDR's exact `{status, version}` (not enveloped; KTRDR's tests assert it) plus gateway
 * readiness.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"

export const Health = Schema.Struct({
  status: Schema.Literal("ok"),
  version: Schema.String,
  gateway: Schema.Struct({
    ready: Schema.Boolean,
    state: Schema.String,
    /** "direct" (this process owns the gateway session) or "remote" (through another server's /ib endpoints). */
    mode: Schema.Literal("direct", "remote"),
    simulated: Schema.Boolean,
    /** An addition: farm states as /ib/status reports them ("unknown" while there is no session). */
    farms: Schema.optional(Schema.NullOr(Schema.Struct({ hmds: Schema.String, connectivity: Schema.String })))
  })
})
export type Health = typeof Health.Type

export class HealthGroup extends HttpApiGroup.make("health")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Health))
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "Liveness, version and gateway readiness; never needs a token")
{}
