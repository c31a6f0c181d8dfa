/**
 * One description of every domain failure — its code, message, details and what kind of failure it is —
 * used by both the HTTP envelope (which maps the kind to a status) and an operation's `failure`, so a
 * failed load shows the same code whether it was answered synchronously or watched as an operation.
 */
import type { IbError } from "./errors.ts"
import type { LoadError } from "./loadTypes.ts"

/** Every typed failure of the data layer (a load's errors are all of them). */
export type DomainError = LoadError

export type ErrorKind = "bad-input" | "not-found" | "internal" | "gateway-error" | "gateway-unavailable"

export interface ErrorDescription {
  readonly kind: ErrorKind
  readonly code: string
  readonly message: string
  readonly details: Readonly<Record<string, unknown>>
}

const FIELD_CODES: Readonly<Record<string, string>> = {
  symbol: "DATA-InvalidSymbol",
  timeframe: "DATA-InvalidTimeframe",
  start: "DATA-InvalidDate",
  end: "DATA-InvalidDate",
  start_date: "DATA-InvalidDate",
  end_date: "DATA-InvalidDate",
  mode: "DATA-InvalidMode"
}

/** Only a file's name: where the data directory lives is not the client's business. */
const fileName = (path: string) => path.split(/[\\/]/).pop() ?? path

const ibKind = (e: IbError): ErrorKind => {
  switch (e.category) {
    case "connectivity":
    case "timeout":
    case "pacing":
    case "client-id-in-use":
      return "gateway-unavailable"
    case "no-security-definition":
    case "no-data":
      return "not-found"
    default:
      return "gateway-error"
  }
}

export const describeError = (e: DomainError): ErrorDescription => {
  switch (e._tag) {
    case "IbError":
      return {
        kind: ibKind(e),
        code: e.label,
        message: e.message,
        details: { ib_code: e.code, req_id: e.reqId, category: e.category, retryable: e.retryable }
      }
    case "UnknownSymbol":
      return {
        kind: "not-found",
        code: `IB-${e.code}`,
        message: e.message,
        details: { symbol: e.symbol, ib_code: e.code, req_id: e.reqId, tried: e.tried, suggestions: e.suggestions }
      }
    case "InvalidInput":
      return {
        kind: "bad-input",
        code: FIELD_CODES[e.field] ?? "DATA-InvalidInput",
        message: e.message,
        details: { field: e.field, value: e.value }
      }
    case "NotFound":
      return { kind: "not-found", code: "DATA-NotFound", message: e.message, details: { what: e.what } }
    case "CorruptData":
      return {
        kind: "internal",
        code: "DATA-CorruptData",
        message: e.message,
        details: { file: fileName(e.file), line: e.line }
      }
    case "StorageError":
      return { kind: "internal", code: "DATA-StorageError", message: e.message, details: { file: fileName(e.file) } }
  }
}

/** The failure a load ended with, as an operation records it: the API's code, message and details, without the kind. */
export const failureOf = (
  e: DomainError
): { readonly code: string; readonly message: string; readonly details: Readonly<Record<string, unknown>> } => {
  const { kind: _kind, ...body } = describeError(e)
  return body
}
