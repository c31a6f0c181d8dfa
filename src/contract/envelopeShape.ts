/**
 * The envelope's shapes, `{success, data, error: {code, message, details}}`, with nothing but `effect/Schema`: the
 * `ktrdr data show` lane (src/app/cliShow.ts) validates answers with them without loading @effect/platform, and
 * envelope.ts builds the error classes' wire forms on them, so the two cannot drift.
 */
import { Schema } from "effect"

export const ErrorDetails = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type ErrorDetails = typeof ErrorDetails.Type

export const ErrorBody = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  details: Schema.NullOr(ErrorDetails)
})
export type ErrorBody = typeof ErrorBody.Type

/** `{success: true, data, error: null}`. */
export const Envelope = <A, I, R>(data: Schema.Schema<A, I, R>) =>
  Schema.Struct({ success: Schema.Literal(true), data, error: Schema.Null })

export const ok = <A>(data: A) => ({ success: true as const, data, error: null })

/**
 * `detail` and `message` repeat `error.message` at the top level: KTRDR's own clients (CLI, MCP) show only
 * `body.detail ‖ body.message` of a non-2xx reply and print "Unknown error" for an envelope without them.
 */
export const FailureEnvelope = Schema.Struct({
  success: Schema.Literal(false),
  data: Schema.Null,
  error: ErrorBody,
  detail: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String)
})
