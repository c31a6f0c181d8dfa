/**
 * The log of historical-data requests the simulator received (control `GET /requests`): evidence for
 * multi-process tests of which client asked for what, and when. Bounded, so a long bench cannot grow it
 * without limit; `total` still counts every request since the last reset, so a caller sees when old entries
 * were dropped.
 */

/** One REQ_HISTORICAL_DATA as the client sent it. */
export interface HistoricalRequestEntry {
  /** The simulator's session number (one per TCP connection). */
  readonly sessionId: number
  readonly clientId: number
  /** As sent (0 when the client named the contract by its fields). */
  readonly conId: number
  readonly symbol: string
  readonly secType: string
  readonly exchange: string
  readonly currency: string
  readonly localSymbol: string
  /**
   * The instrument the simulator's catalog resolves the contract to (its local symbol: `AAPL`, `EUR.USD`, `ESH5`),
   * null when nothing or several match: clients that send only a conId still show which series they asked for.
   */
  readonly resolved: string | null
  readonly endDateTime: string
  readonly duration: string
  readonly barSize: string
  readonly whatToShow: string
  readonly useRTH: boolean
  /** Real time (epoch ms) the request was read, not the simulated clock. */
  readonly receivedAtMs: number
}

export interface RequestLogSnapshot {
  /** Requests received since the last reset, kept or not. */
  readonly total: number
  /** The newest `capacity` of them, oldest first. */
  readonly requests: ReadonlyArray<HistoricalRequestEntry>
}

export const REQUEST_LOG_CAPACITY = 20_000

/** A ring buffer: O(1) per request on the simulator's hot path. */
export class RequestLog {
  private readonly ring: Array<HistoricalRequestEntry | undefined>
  private next = 0
  private total = 0

  constructor(readonly capacity = REQUEST_LOG_CAPACITY) {
    this.ring = new Array<HistoricalRequestEntry | undefined>(capacity)
  }

  add(e: HistoricalRequestEntry): void {
    this.ring[this.next] = e
    this.next = (this.next + 1) % this.capacity
    this.total++
  }

  snapshot(): RequestLogSnapshot {
    const kept = Math.min(this.total, this.capacity)
    const start = this.total > this.capacity ? this.next : 0
    const requests: Array<HistoricalRequestEntry> = []
    for (let i = 0; i < kept; i++) requests.push(this.ring[(start + i) % this.capacity]!)
    return { total: this.total, requests }
  }

  clear(): void {
    this.ring.fill(undefined)
    this.next = 0
    this.total = 0
  }
}
