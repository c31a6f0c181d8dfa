/**
 * Operations as KTRDR's current clients read them: the symbol as its series key (`EURUSD`, the name of the
 * file and of KTRDR's cache entry — not the display form `EUR.USD`), and the current generation's
 * `parent_operation_id` / `is_backend_local`, filled with what is true here (loads have no parent and run in
 * this process).
 */
import { Either } from "effect"
import { seriesKeyOf } from "../domain/Instrument.ts"
import type { OperationInfo, OperationStatus, OperationSummary, OperationType } from "../domain/operation.ts"
import type { KtrdrOperationInfo } from "../contract/api/operations.ts"

const keyOf = (symbol: string | null) => symbol === null ? null : Either.getOrElse(seriesKeyOf(symbol), () => symbol)

export const ktrdrInfo = (o: OperationInfo): KtrdrOperationInfo => ({
  ...o,
  metadata: { ...o.metadata, symbol: keyOf(o.metadata.symbol) },
  result_summary: o.result_summary === null || typeof o.result_summary["symbol"] !== "string"
    ? o.result_summary
    : { ...o.result_summary, symbol: keyOf(o.result_summary["symbol"]) },
  parent_operation_id: null,
  is_backend_local: true
})

export const ktrdrSummary = (s: OperationSummary): OperationSummary => ({ ...s, symbol: keyOf(s.symbol) })

const STATUSES: ReadonlySet<string> = new Set<OperationStatus>([
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled"
])
const TYPES: ReadonlySet<string> = new Set<OperationType>([
  "data_load",
  "training",
  "backtesting",
  "indicator_compute",
  "fuzzy_analysis"
])

/** A KTRDR status this registry can hold (`resuming` never is). */
export const knownStatus = (s: string): s is OperationStatus => STATUSES.has(s)
/** A KTRDR operation type this registry can hold (`dummy`, `agent_*` never are). */
export const knownType = (t: string): t is OperationType => TYPES.has(t)
