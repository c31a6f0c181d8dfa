/**
 * IB's historical-data pacing rules (tws-protocol.md §5.1) as the gateway applies them: an identical
 * request within 15 s, 6 or more requests for one contract+exchange+tick type within 2 s, or more than
 * 60 requests in any 10 minutes (BID_ASK counting twice) is a violation. Rejected requests are not
 * recorded, so a client that waits can always get through; `timeScale` shrinks every window.
 */
export type PacingMode = "strict" | "all" | "off"

export interface PacedRequest {
  /** Everything that makes two requests "identical". */
  readonly identity: string
  /** Contract + exchange + tick type. */
  readonly contract: string
  /** 2 for BID_ASK. */
  readonly weight: number
  /** Bar size of 30 seconds or less: the only ones strict mode paces. */
  readonly small: boolean
}

/** The fields of a historical request (as on the wire) that its pacing key is made of. */
export interface PacingKeyFields {
  readonly exchange: string
  readonly endDateTime: string
  readonly duration: string
  readonly useRTH: boolean
  readonly formatDate: number
}

/**
 * How this gateway keys a request for its rules: contract (by conId), exchange and tick type for bursts;
 * all of the request's parameters for "identical". `what` is the tick type the data comes from
 * (ADJUSTED_LAST is TRADES). Exported for the pacing property test, which feeds this checker directly.
 */
export const pacedRequestOf = (
  m: PacingKeyFields,
  conId: number,
  what: string,
  bar: { readonly ib: string },
  small: boolean
): PacedRequest => {
  const contract = `${conId}|${m.exchange.toUpperCase()}|${what}`
  return {
    identity: [contract, m.endDateTime, m.duration, bar.ib, m.useRTH, m.formatDate].join("|"),
    contract,
    weight: what === "BID_ASK" ? 2 : 1,
    small
  }
}

export type PacingRule = "identical-within-15s" | "six-within-2s" | "sixty-within-10min"

interface Entry {
  readonly t: number
  readonly r: PacedRequest
}

export const IDENTICAL_WINDOW_MS = 15_000
export const BURST_WINDOW_MS = 2_000
export const BURST_LIMIT = 6
export const LONG_WINDOW_MS = 600_000
export const LONG_LIMIT = 60

export class Pacing {
  private entries: Array<Entry> = []

  constructor(
    private mode: PacingMode,
    private timeScale: number
  ) {}

  configure(mode: PacingMode, timeScale: number): void {
    this.mode = mode
    this.timeScale = timeScale
  }

  reset(): void {
    this.entries = []
  }

  /** Records the request and returns undefined when allowed; otherwise the rule it breaks. */
  admit(r: PacedRequest, now: number): PacingRule | undefined {
    if (this.mode === "off" || (this.mode === "strict" && !r.small)) return undefined
    const scale = this.timeScale
    this.entries = this.entries.filter((e) => now - e.t < LONG_WINDOW_MS / scale)
    let identical = false
    let burst = 0
    let total = 0
    for (const e of this.entries) {
      total += e.r.weight
      if (now - e.t < BURST_WINDOW_MS / scale && e.r.contract === r.contract) burst += e.r.weight
      if (now - e.t < IDENTICAL_WINDOW_MS / scale && e.r.identity === r.identity) identical = true
    }
    if (identical) return "identical-within-15s"
    if (burst + r.weight >= BURST_LIMIT) return "six-within-2s"
    if (total + r.weight > LONG_LIMIT) return "sixty-within-10min"
    this.entries.push({ t: now, r })
    return undefined
  }
}
