/**
 * Domain failures → API errors: the description (code, message, details) comes from the domain's one
 * table; here only its kind becomes an HTTP status. An IB code, a bad field or a corrupt line reaches
 * the client with its context (KTRDR answered IB errors as HTTP 200 and lost their codes).
 */
import { Effect } from "effect"
import { describeError, type DomainError } from "../domain/errorBody.ts"
import { BadRequest, GatewayError, GatewayUnavailable, InternalError, NotFoundError } from "../contract/envelope.ts"

export type { DomainError }

/** The API errors a domain failure can become. */
export type DomainApiError = BadRequest | NotFoundError | InternalError | GatewayError | GatewayUnavailable

export const toApiError = (e: DomainError): DomainApiError => {
  const { kind, ...body } = describeError(e)
  switch (kind) {
    case "bad-input":
      return new BadRequest(body)
    case "not-found":
      return new NotFoundError(body)
    case "internal":
      return new InternalError(body)
    case "gateway-error":
      return new GatewayError(body)
    case "gateway-unavailable":
      return new GatewayUnavailable(body)
  }
}

/** Maps every domain failure of an effect to its API error. */
export const apiErrors = <A, E extends DomainError, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, DomainApiError, R> => Effect.mapError(self, (e) => toApiError(e))
