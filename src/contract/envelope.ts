/**
 * KTRDR's response envelope, `{success, data, error: {code, message, details}}`, for every answer of the
 * API: successes wrap their payload; every error class encodes to the same shape under its HTTP status.
 * The classes are what handlers fail with; on the wire only the envelope appears (no `_tag`), and the
 * derived client turns it back into the class chosen by the status.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"
import { ErrorBody, ErrorDetails, FailureEnvelope } from "./envelopeShape.ts"

export { Envelope, ErrorBody, ErrorDetails, FailureEnvelope, ok } from "./envelopeShape.ts"

const errorFields = { code: Schema.String, message: Schema.String, details: Schema.NullOr(ErrorDetails) }

/** The wire form of an error class: its fields inside the failure envelope, sent with `status`. */
const enveloped = <C extends new(props: ErrorBody) => ErrorBody>(
  cls: C & Schema.Schema<InstanceType<C>, any>,
  status: number,
  description: string
) =>
  Schema.transform(FailureEnvelope, Schema.typeSchema(cls as Schema.Schema<InstanceType<C>, any>), {
    strict: false,
    decode: (e) => new cls(e.error),
    encode: (c: ErrorBody) => failureBody(c)
  }).annotations(HttpApiSchema.annotations({ status, description }))

export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", errorFields) {}
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", errorFields) {}
export class NotFoundError extends Schema.TaggedError<NotFoundError>()("NotFoundError", errorFields) {}
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", errorFields) {}
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", errorFields) {}
export class InternalError extends Schema.TaggedError<InternalError>()("InternalError", errorFields) {}
export class GatewayError extends Schema.TaggedError<GatewayError>()("GatewayError", errorFields) {}
export class GatewayUnavailable extends Schema.TaggedError<GatewayUnavailable>()("GatewayUnavailable", errorFields) {}

/** The tags of the envelope's errors above: what a server answers with and a client recognises as the API's own. */
export const API_ERROR_TAGS: ReadonlySet<string> = new Set([
  "BadRequest",
  "Unauthorized",
  "NotFoundError",
  "Conflict",
  "PayloadTooLarge",
  "InternalError",
  "GatewayError",
  "GatewayUnavailable"
])

export const BadRequestWire = enveloped(BadRequest, 400, "Bad input: a parameter, path or body was rejected")
export const UnauthorizedWire = enveloped(Unauthorized, 401, "Missing or wrong bearer token")
export const NotFoundWire = enveloped(NotFoundError, 404, "Unknown symbol, series, operation or path")
export const ConflictWire = enveloped(Conflict, 409, "The resource's state does not allow this")
export const PayloadTooLargeWire = enveloped(PayloadTooLarge, 413, "Request body over the size limit")
export const InternalWire = enveloped(InternalError, 500, "Unexpected server or storage failure")
export const GatewayErrorWire = enveloped(
  GatewayError,
  502,
  "The IB gateway answered with an error (IB code in `code`)"
)
export const GatewayUnavailableWire = enveloped(GatewayUnavailable, 503, "The IB gateway is not reachable")

export type ApiError =
  | BadRequest
  | Unauthorized
  | NotFoundError
  | Conflict
  | PayloadTooLarge
  | InternalError
  | GatewayError
  | GatewayUnavailable

/** The status each error class is sent with: for responses built outside HttpApi (middleware, SSE). */
export const statusOf = (e: ApiError): number => {
  switch (e._tag) {
    case "BadRequest":
      return 400
    case "Unauthorized":
      return 401
    case "NotFoundError":
      return 404
    case "Conflict":
      return 409
    case "PayloadTooLarge":
      return 413
    case "InternalError":
      return 500
    case "GatewayError":
      return 502
    case "GatewayUnavailable":
      return 503
  }
}

/** The failure envelope with KTRDR's top-level `detail` and `message` (see FailureEnvelope). */
export const failureBody = (e: ErrorBody) => ({
  success: false as const,
  data: null,
  error: { code: e.code, message: e.message, details: e.details },
  detail: e.message,
  message: e.message
})
