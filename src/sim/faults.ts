/** Fault switches of the simulated gateway: the JSON body of `POST /faults`, checked by a Schema. */
import { Schema } from "effect"

const NonNegInt = Schema.Int.pipe(Schema.nonNegative())

export const FaultsPatch = Schema.Struct({
  /** Stop listening: new connections get ECONNREFUSED until switched off. */
  refuseConnections: Schema.optional(Schema.Boolean),
  /** Accept and read the handshake, but never send the server-version frame. */
  silentHandshake: Schema.optional(Schema.Boolean),
  /** Complete the handshake but never send NEXT_VALID_ID (the client stays paused). */
  withholdNextValidId: Schema.optional(Schema.Boolean),
  /** Never answer any request (a silent, half-open gateway). */
  stall: Schema.optional(Schema.Boolean),
  /** Send the next historical answer half-way, then close the socket. */
  closeMidResponse: Schema.optional(Schema.Boolean),
  /** Close a session's socket after it sends this many more messages (one shot; null clears). */
  closeAfterMessages: Schema.optional(Schema.NullOr(NonNegInt)),
  /** Send 165 "HMDS server connection was successful" with the reqId before every historical answer. */
  notice165: Schema.optional(Schema.Boolean),
  /** Answer the next N historical requests with a pacing violation. */
  pacingViolationNext: Schema.optional(NonNegInt),
  /** Send 1100 now and 1102 (or 1101 when dataLost) after restoreAfterMs. */
  connectivityLost: Schema.optional(
    Schema.Struct({ restoreAfterMs: NonNegInt, dataLost: Schema.optional(Schema.Boolean) })
  ),
  /** Send 2110 (TWS–server connectivity broken) now. */
  serverBroken: Schema.optional(Schema.Boolean),
  /** Send 2105 (HMDS farm broken) now, hold historical answers, and send 2106 after restoreAfterMs. */
  hmdsBroken: Schema.optional(Schema.Struct({ restoreAfterMs: NonNegInt })),
  /** Send one frame no client can decode (unknown message id) to every session. */
  garbageFrame: Schema.optional(Schema.Boolean),
  /** Destroy every open session now (the gateway process died). */
  dropConnections: Schema.optional(Schema.Boolean),
  /**
   * Let a second session log in with a client id already in use (no 326). No real gateway does this: it exists
   * so tests can show that `maxSessionsPerClientId` counts real sessions.
   */
  acceptDuplicateClientIds: Schema.optional(Schema.Boolean)
})
export type FaultsPatch = typeof FaultsPatch.Type

/** The switches that persist between requests. */
export interface FaultState {
  refuseConnections: boolean
  silentHandshake: boolean
  withholdNextValidId: boolean
  stall: boolean
  closeMidResponse: boolean
  closeAfterMessages: number | null
  notice165: boolean
  pacingViolationNext: number
  hmdsBroken: boolean
  acceptDuplicateClientIds: boolean
}

export const noFaults = (): FaultState => ({
  refuseConnections: false,
  silentHandshake: false,
  withholdNextValidId: false,
  stall: false,
  closeMidResponse: false,
  closeAfterMessages: null,
  notice165: false,
  pacingViolationNext: 0,
  hmdsBroken: false,
  acceptDuplicateClientIds: false
})
