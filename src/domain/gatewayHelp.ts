/**
 * What a user is told when the gateway cannot be reached, and how a load that waits for it describes
 * its wait. Pure text: the connection layer and the data manager fill in the facts.
 */

/** IB's own code for "couldn't connect to TWS"; a load that never reached the gateway fails with it. */
export const UNREACHABLE_CODE = 502

export interface UnreachableFacts {
  readonly host: string
  readonly port: number
  readonly clientId: number
  /** Connection attempts that failed while the caller watched (the one in progress plus the short retry). */
  readonly attempts: number
  /** The last attempt's error, e.g. "connect ECONNREFUSED 127.0.0.1:4002". */
  readonly lastError: string | null
  readonly elapsedMs: number
}

/** One message naming where, what was tried and how to fix it (issue 11). */
export const unreachableMessage = (f: UnreachableFacts): string =>
  [
    `IB gateway not reachable at ${f.host}:${f.port}:`,
    `${f.attempts} connection attempt${f.attempts === 1 ? "" : "s"} as client ${f.clientId} failed within`,
    `${(f.elapsedMs / 1000).toFixed(1)} s${f.lastError === null ? "" : ` (last: ${f.lastError})`}.`,
    "Check that TWS or IB Gateway is running and logged in, that its API is enabled",
    `(Configure → Settings → API: "Enable ActiveX and Socket Clients", socket port ${f.port})`,
    "and that this machine is in its Trusted IPs, or point KTRDR_IB_HOST / KTRDR_IB_PORT at it",
    "(KTRDR_IB_CONNECT_TIMEOUT bounds the handshake).",
    "To wait for the gateway instead: `ktrdr data load … --wait-for-gateway` (API: \"wait_for_gateway\": true)."
  ].join(" ")

/** Progress text of a load waiting for the gateway: "waiting for gateway: attempt 3, next try in 8 s". */
export const waitingStep = (attempt: number, nextAttemptAt: number | null, nowMs: number): string => {
  if (nextAttemptAt === null) return `waiting for gateway: attempt ${Math.max(1, attempt)} in progress`
  const s = Math.max(0, Math.ceil((nextAttemptAt - nowMs) / 1000))
  return `waiting for gateway: attempt ${attempt}, next try in ${s} s`
}
