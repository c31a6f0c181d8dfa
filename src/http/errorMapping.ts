/**
 * Domain failures → API errors: one table, so an IB code, a bad field or a corrupt line reaches the
 * client with its context (KTRDR answered IB errors as HTTP 200 and lost their codes).
 */
import { Effect } from "effect"
import { basename } from "node:path"
import type { CorruptData, InvalidInput, NotFound, StorageError } from "../domain/dataErrors.ts"
import type { IbError } from "../domain/errors.ts"
import type { UnknownSymbol } from "../domain/Instrument.ts"
import { BadRequest, GatewayError, GatewayUnavailable, InternalError, NotFoundError } from "./envelope.ts"

/** The API errors a domain failure can become. */
export type DomainApiError = BadRequest | NotFoundError | InternalError | GatewayError | GatewayUnavailable

export type DomainError = IbError | UnknownSymbol | InvalidInput | NotFound | CorruptData | StorageError

const FIELD_CODES: Record<string, string> = {
  symbol: "DATA-InvalidSymbol",
  timeframe: "DATA-InvalidTimeframe",
  start: "DATA-InvalidDate",
  end: "DATA-InvalidDate",
  start_date: "DATA-InvalidDate",
  end_date: "DATA-InvalidDate",
  mode: "DATA-InvalidMode"
}

export const ibErrorToApi = (e: IbError): DomainApiError => {
  const details = { ib_code: e.code, req_id: e.reqId, category: e.category, retryable: e.retryable }
  switch (e.category) {
    case "connectivity":
    case "timeout":
    case "pacing":
    case "client-id-in-use":
      return new GatewayUnavailable({ code: e.label, message: e.message, details })
    case "no-security-definition":
    case "no-data":
      return new NotFoundError({ code: e.label, message: e.message, details })
    default:
      return new GatewayError({ code: e.label, message: e.message, details })
  }
}

export const toApiError = (e: DomainError): DomainApiError => {
  switch (e._tag) {
    case "IbError":
      return ibErrorToApi(e)
    case "UnknownSymbol":
      return new NotFoundError({
        code: `IB-${e.code}`,
        message: e.message,
        details: { symbol: e.symbol, ib_code: e.code, req_id: e.reqId, tried: e.tried, suggestions: e.suggestions }
      })
    case "InvalidInput":
      return new BadRequest({ code: FIELD_CODES[e.field] ?? "DATA-InvalidInput", message: e.message, details: { field: e.field, value: e.value } })
    case "NotFound":
      return new NotFoundError({ code: "DATA-NotFound", message: e.message, details: { what: e.what } })
    case "CorruptData":
      // Only the file's name: the data directory's location is not the client's business.
      return new InternalError({ code: "DATA-CorruptData", message: e.message, details: { file: basename(e.file), line: e.line } })
    case "StorageError":
      return new InternalError({ code: "DATA-StorageError", message: e.message, details: { file: basename(e.file) } })
  }
}

/** Maps every domain failure of an effect to its API error. */
export const apiErrors = <A, E extends DomainError, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, DomainApiError, R> =>
  Effect.mapError(self, (e) => toApiError(e))
