/**
 * Typed failures that cross boundaries (HTTP, CLI). An IB failure keeps the gateway's code, the
 * request id and message all the way to the user's screen — KTRDR lost them on the way.
 */
import { Schema } from "effect"
import { classifyIbError, RETRYABLE, type IbErrorCategory } from "./IbErrorCodes.ts"

export const IbErrorCategorySchema = Schema.Literal(
  "pacing",
  "no-data",
  "cancelled",
  "no-security-definition",
  "validation",
  "permission",
  "connectivity",
  "client-id-in-use",
  "timeout",
  "other"
)

export class IbError extends Schema.TaggedError<IbError>()("IbError", {
  /** IB's code; 0 when the condition has none (a timeout, a socket that went silent). */
  code: Schema.Number,
  /** The request id the gateway answered, -1 for session-level messages. */
  reqId: Schema.Number,
  message: Schema.String,
  category: IbErrorCategorySchema,
  retryable: Schema.Boolean
}) {
  /** From a gateway (or library) error: the category comes from the one table in IbErrorCodes. */
  static fromIb(code: number, reqId: number, message: string): IbError {
    const c = classifyIbError(code, message)
    return new IbError({ code, reqId, message, category: c.category, retryable: c.retryable })
  }

  static of(category: IbErrorCategory, message: string, reqId = -1, code = 0): IbError {
    return new IbError({ code, reqId, message, category, retryable: RETRYABLE.has(category) })
  }

  /** `IB-200`-style code for envelopes and screens. */
  get label(): string {
    return this.code > 0 ? `IB-${this.code}` : `IB-${this.category}`
  }
}
