/**
 * The few KTRDR API calls multi-process tests and benches make, over plain fetch, each answer decoded with the
 * contract's own schema (so a test fails on a wire change, not on a missing field later).
 */
import { Schema } from "effect"
import { DataLoadRequest, DataLoadResponse, OhlcvData } from "../../src/contract/api/data.ts"
import { KtrdrOperationInfo, OperationList } from "../../src/contract/api/operations.ts"
import { Envelope } from "../../src/contract/envelope.ts"

export type LoadBody = typeof DataLoadRequest.Encoded
export type OperationInfo = typeof KtrdrOperationInfo.Type
export type Bars = typeof OhlcvData.Type
export type Operations = typeof OperationList.Type

const TERMINAL = new Set(["completed", "failed", "cancelled"])

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 2_000)}`)
  }
}

const call = async <A, I>(
  schema: Schema.Schema<A, I>,
  baseUrl: string,
  method: "GET" | "POST" | "DELETE",
  path: string,
  body?: unknown,
  timeoutMs = 30_000
): Promise<A> => {
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  const text = await r.text()
  if (!r.ok) throw new ApiError(r.status, text, `${method} ${path}`)
  return Schema.decodeUnknownSync(schema)(JSON.parse(text))
}

const LoadAnswer = Envelope(DataLoadResponse)
const OperationAnswer = Envelope(KtrdrOperationInfo)
const BarsAnswer = Envelope(OhlcvData)

/** `POST /api/v1/data/load?async_mode=true`: starts a load and returns its operation id. */
export const startLoad = async (baseUrl: string, body: LoadBody): Promise<string> => {
  const r = await call(LoadAnswer, baseUrl, "POST", "/api/v1/data/load?async_mode=true", body)
  if (r.data.operation_id === null) throw new Error(`load started without an operation id: ${JSON.stringify(r)}`)
  return r.data.operation_id
}

/** `GET /api/v1/operations/{id}`. */
export const getOperation = async (baseUrl: string, id: string): Promise<OperationInfo> =>
  (await call(OperationAnswer, baseUrl, "GET", `/api/v1/operations/${encodeURIComponent(id)}`)).data

/**
 * Polls the operation until it is completed, failed or cancelled, and returns it then. Transient transport
 * errors (a runner restarting) are retried until `timeoutMs`; HTTP errors other than 404 are not.
 */
export const waitForOperation = async (
  baseUrl: string,
  id: string,
  o: { readonly timeoutMs?: number; readonly pollMs?: number } = {}
): Promise<OperationInfo> => {
  const until = Date.now() + (o.timeoutMs ?? 120_000)
  let last: string
  for (;;) {
    try {
      const op = await getOperation(baseUrl, id)
      if (TERMINAL.has(op.status)) return op
      last = `${op.status} ${op.progress.percentage}%`
    } catch (e) {
      if (e instanceof ApiError && e.status !== 404) throw e
      last = e instanceof Error ? e.message : String(e)
    }
    if (Date.now() > until) throw new Error(`operation ${id} not finished after ${o.timeoutMs ?? 120_000} ms: ${last}`)
    await new Promise<void>((r) => setTimeout(r, o.pollMs ?? 200))
  }
}

/** Starts a load and waits for its final state. */
export const loadAndWait = async (
  baseUrl: string,
  body: LoadBody,
  o: { readonly timeoutMs?: number; readonly pollMs?: number } = {}
): Promise<OperationInfo> => waitForOperation(baseUrl, await startLoad(baseUrl, body), o)

/** `GET /api/v1/operations` with KTRDR's filters. */
export const listOperations = (
  baseUrl: string,
  q: {
    readonly status?: string
    readonly activeOnly?: boolean
    readonly limit?: number
    readonly offset?: number
  } = {}
): Promise<Operations> => {
  const p = new URLSearchParams()
  if (q.status !== undefined) p.set("status", q.status)
  if (q.activeOnly !== undefined) p.set("active_only", String(q.activeOnly))
  p.set("limit", String(q.limit ?? 1000))
  if (q.offset !== undefined) p.set("offset", String(q.offset))
  return call(OperationList, baseUrl, "GET", `/api/v1/operations?${p}`)
}

/** `DELETE /api/v1/operations/{id}` (answers once the load's checkpoint is stored). */
export const cancelOperation = async (baseUrl: string, id: string, reason = "test"): Promise<void> => {
  const r = await fetch(`${baseUrl}/api/v1/operations/${encodeURIComponent(id)}`, {
    method: "DELETE",
    body: JSON.stringify({ reason }),
    headers: { "content-type": "application/json" },
    signal: AbortSignal.timeout(60_000)
  })
  const text = await r.text()
  if (!r.ok) throw new ApiError(r.status, text, `DELETE /operations/${id}`)
}

/** `GET /api/v1/data/{symbol}/{tf}?start_date&end_date`: the stored bars of a range (never calls IB). */
export const readBars = async (
  baseUrl: string,
  symbol: string,
  timeframe: string,
  range: { readonly start?: string; readonly end?: string } = {}
): Promise<Bars> => {
  const p = new URLSearchParams()
  if (range.start !== undefined) p.set("start_date", range.start)
  if (range.end !== undefined) p.set("end_date", range.end)
  const path = `/api/v1/data/${encodeURIComponent(symbol)}/${encodeURIComponent(timeframe)}?${p}`
  return (await call(BarsAnswer, baseUrl, "GET", path, undefined, 120_000)).data
}

/** The IB requests a finished load reports (`result_summary.ib_requests_made`). */
export const ibRequestsOf = (op: OperationInfo): number => {
  const n = op.result_summary?.["ib_requests_made"]
  if (typeof n !== "number") throw new Error(`operation ${op.operation_id} has no ib_requests_made: ${op.status}`)
  return n
}
