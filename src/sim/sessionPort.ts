/**
 * What request handlers (historicalRequest.ts) and the simulator need of a session, and what a session
 * needs of its simulator: the contracts between them, so neither module imports the other's code.
 */
import type { FaultState } from "./faults.ts"
import type { Pacing } from "./pacing.ts"
import type { HistoricalData } from "./requests.ts"
import type { Field } from "./wire.ts"

/** Historical requests waiting for their latency, the HMDS farm, or streaming keepUpToDate updates. */
export interface InFlight {
  readonly timer?: NodeJS.Timeout
  readonly interval?: NodeJS.Timeout
}

/** A HISTORICAL_DATA message body, built in one string, and how many bars it carries. */
export interface HistoricalFrame {
  readonly body: string
  readonly count: number
}

/** The part of a session that request handlers use to answer. */
export interface SessionPort {
  /** The negotiated server version: the layout of every frame this session writes. */
  readonly version: number
  readonly inFlight: Map<number, InFlight>
  send(fields: ReadonlyArray<Field>): void
  sendError(id: number, code: number, message: string): void
  sendTruncated(body: string): void
  sendBars(frame: HistoricalFrame): void
  clearInFlight(reqId: number): void
  markFinished(reqId: number): void
  later(ms: number, fn: () => void): NodeJS.Timeout | undefined
  whenHmdsUp(fn: () => void): void
}

export interface SimCounters {
  /** Every request read after START_API. */
  total: number
  /** Requests by kind (the decoder's tag, or IB's name for an unsupported one). */
  byType: Record<string, number>
  /** Requests answered with "not supported", by IB's name. */
  unsupported: Record<string, number>
  /** Requests that got nothing although the protocol answers them: sent before START_API (a client's mistake). */
  unanswered: number
  /** Requests swallowed on purpose by the `stall` fault. */
  stalled: number
  /** Frames that could not be read (answered with 320). */
  unreadable: number
  historical: number
  contractDetails: number
  headTimestamp: number
  currentTime: number
  historicalCancels: number
  pacingViolations: number
  errorsSent: number
  barsSent: number
  /** Logins refused with 326 because another open session holds the client id. */
  clientIdRefusals: number
}

/** What a session needs from the simulator that owns it. */
export interface SimContext<S extends SessionPort = SessionPort> {
  readonly now: () => number
  readonly faults: FaultState
  readonly pacing: Pacing
  readonly counters: SimCounters
  readonly account: string
  readonly timeScale: () => number
  /** The highest server version this gateway speaks (a client gets min(its max, this)). */
  readonly serverVersion: () => number
  /** Simulated latency for an answer carrying `bars` bars, already time-scaled, in ms. */
  readonly latencyFor: (bars: number) => number
  claimClientId(id: number, s: S): boolean
  releaseClientId(id: number, s: S): void
  /** A session finished its login (START_API accepted) under its client id. */
  onLoggedIn(s: S): void
  /** A REQ_HISTORICAL_DATA was read from a logged-in session (before any fault or validation). */
  onHistoricalRequest(s: S, m: typeof HistoricalData.Type): void
  readonly openHistorical: () => number
  readonly log: (line: string) => void
  onClosed(s: S): void
}
