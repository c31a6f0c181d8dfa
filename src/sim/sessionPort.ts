/**
 * What request handlers (historicalRequest.ts) and the simulator need of a session, and what a session
 * needs of its simulator: the contracts between them, so neither module imports the other's code.
 */
import type { FaultState } from "./faults.ts"
import type { Pacing } from "./pacing.ts"
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
  historical: number
  contractDetails: number
  headTimestamp: number
  currentTime: number
  historicalCancels: number
  pacingViolations: number
  errorsSent: number
  barsSent: number
}

/** What a session needs from the simulator that owns it. */
export interface SimContext<S extends SessionPort = SessionPort> {
  readonly now: () => number
  readonly faults: FaultState
  readonly pacing: Pacing
  readonly counters: SimCounters
  readonly account: string
  readonly timeScale: () => number
  /** Simulated latency for an answer carrying `bars` bars, already time-scaled, in ms. */
  readonly latencyFor: (bars: number) => number
  claimClientId(id: number, s: S): boolean
  releaseClientId(id: number, s: S): void
  readonly openHistorical: () => number
  readonly log: (line: string) => void
  onClosed(s: S): void
}
