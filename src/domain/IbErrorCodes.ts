/**
 * The one table from IB error codes (and, for 162, message texts) to categories — tws-protocol.md §5.2,
 * ktrdr-ib-layer.md §3. KTRDR classed every 162 as "data unavailable", so pacing violations were never
 * retried; here 162 is split by its text, and informational codes are told apart from failures.
 */
export type IbErrorCategory =
  | "pacing"
  | "no-data"
  | "cancelled"
  | "no-security-definition"
  | "validation"
  | "permission"
  | "connectivity"
  | "client-id-in-use"
  | "timeout"
  | "other"

export interface IbClassification {
  readonly category: IbErrorCategory
  /** Worth retrying after a wait or a reconnect. */
  readonly retryable: boolean
}

export const RETRYABLE: ReadonlySet<IbErrorCategory> = new Set([
  "pacing",
  "connectivity",
  "timeout",
  "client-id-in-use"
])

/**
 * Codes that never fail a request: farm status, HMDS link status (165, which @stoqey/ib's IBApiNext
 * wrongly treats as fatal), warnings that precede bars, delayed-data notices.
 */
const INFORMATIONAL: ReadonlySet<number> = new Set([
  165,
  2104,
  2106,
  2107,
  2108,
  2119,
  2158,
  2174,
  2176,
  2188,
  10090,
  10167,
  399,
  492
])

/** 2100–2999 are TWS notices; messages starting "Warning:" are non-fatal whatever their code. */
export const isInformational = (code: number, message = ""): boolean =>
  INFORMATIONAL.has(code) || (code >= 2100 && code < 3000 && code !== 2105 && code !== 2103 && code !== 2110) ||
  /^\s*Warning:/i.test(message)

const BY_CODE: ReadonlyMap<number, IbErrorCategory> = new Map<number, IbErrorCategory>([
  [100, "pacing"],
  [420, "pacing"],
  [166, "permission"],
  [354, "permission"],
  [10089, "permission"],
  [10168, "permission"],
  [10197, "permission"],
  [200, "no-security-definition"],
  [321, "validation"],
  [322, "validation"],
  [10314, "validation"],
  [366, "validation"],
  [326, "client-id-in-use"],
  [502, "connectivity"],
  [504, "connectivity"],
  [505, "connectivity"],
  [506, "connectivity"],
  [507, "connectivity"],
  [1100, "connectivity"],
  [1101, "connectivity"],
  [1300, "connectivity"],
  [2103, "connectivity"],
  [2105, "connectivity"],
  [2110, "connectivity"],
  [10182, "connectivity"]
])

/** 162 carries several different failures; its text decides (texts from real gateways, §5.2). */
const classify162 = (message: string): IbErrorCategory => {
  const m = message.toLowerCase()
  if (m.includes("pacing violation")) return "pacing"
  if (m.includes("query cancelled")) return "cancelled"
  if (m.includes("returned no data")) return "no-data"
  if (
    m.includes("no market data permissions") || m.includes("no historical market data") || m.includes("not supported")
  ) return "permission"
  if (m.includes("maximum number of simultaneous")) return "pacing"
  if (m.includes("invalid step") || m.includes("unknown contract")) return "validation"
  return "other"
}

export const classifyIbError = (code: number, message: string): IbClassification => {
  const category = code === 162 ? classify162(message) : (BY_CODE.get(code) ?? "other")
  return { category, retryable: RETRYABLE.has(category) }
}
