/** One status record for the API's /ib/status: the connection, the client's counters and the pace gate. */
import { Effect } from "effect"
import { IbClient, type ClientStats } from "./IbClient.ts"
import { IbConnection, type ConnectionInfo } from "./IbConnection.ts"
import { PaceGate } from "./PaceGate.ts"

export interface IbStatus extends ConnectionInfo {
  readonly ready: boolean
  readonly requests: ClientStats
  readonly pacing: {
    readonly waits: number
    readonly totalWaitMs: number
    readonly inFlight: number
    readonly queued: number
  }
}

export const ibStatus = Effect.gen(function*() {
  const info = yield* (yield* IbConnection).info
  const requests = yield* (yield* IbClient).stats
  const gate = yield* (yield* PaceGate).stats
  return {
    ...info,
    ready: info.state._tag === "Ready",
    requests,
    pacing: { waits: gate.waits, totalWaitMs: gate.totalWaitMs, inFlight: gate.inFlight, queued: gate.queued }
  } satisfies IbStatus
})
