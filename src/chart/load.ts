/// <reference lib="dom" />
/**
 * The "Load" panel: starts an async load (`POST /data/load?async_mode=true`), follows its operation's
 * SSE stream (`progress` events, then one `end`), and cancels it (`DELETE /operations/{id}`). The
 * stream replays the current state on connect, so a dropped connection is simply reopened.
 */
import { ApiError, q, request, seg } from "./api.ts"
import { readEvents } from "./sse.ts"

export interface OperationInfo {
  readonly operation_id: string
  readonly status: "pending" | "running" | "completed" | "failed" | "cancelled"
  readonly progress: {
    readonly percentage: number
    readonly current_step: string | null
    readonly items_processed: number
    readonly items_total: number | null
    readonly bars_fetched?: number
    readonly phase?: string
  }
  readonly error_message: string | null
  readonly failure?: { readonly code: string; readonly message: string } | null
  readonly result_summary: Record<string, unknown> | null
}

export interface LoadRequest {
  readonly symbol: string
  readonly timeframe: string
  readonly mode: string
  readonly start_date?: string
  readonly end_date?: string
}

export interface LoadState {
  operationId: string | null
  status: string
  percentage: number
  /** Highest percentage seen for the current load (what the tests wait on). */
  maxPercentage: number
  failureCode: string | null
  events: number
}

export interface LoadDeps {
  readonly button: HTMLButtonElement
  readonly cancel: HTMLButtonElement
  readonly progress: HTMLProgressElement
  readonly status: HTMLElement
  readonly target: () => LoadRequest | null
  /** The load ended (any terminal status); the page refreshes the chart. */
  readonly onEnd: (info: OperationInfo) => void
  readonly onError: (e: ApiError) => void
}

const RECONNECTS = 5

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const describe = (info: OperationInfo) => {
  const p = info.progress
  // Waiting for the gateway: the wait alone ("waiting for gateway: attempt 3, next try in 8 s"), no stale percentage.
  if (p.phase === "waiting_for_gateway") return p.current_step ?? "waiting for gateway"
  const parts = [`${Math.round(p.percentage)}%`, p.current_step ?? info.status]
  const segments = `${p.items_processed}/${p.items_total}`
  // The server's step text usually names the segment already ("Fetching segment 3/12 from IB").
  if (p.items_total !== null && p.items_total > 0 && !(p.current_step ?? "").includes(segments)) {
    parts.push(`segment ${segments}`)
  }
  if (p.bars_fetched !== undefined && p.bars_fetched > 0) parts.push(`${p.bars_fetched.toLocaleString("en-US")} bars`)
  return parts.join(" — ")
}

/** The envelope error of a failed SSE request (readEvents rejects with the Response). */
const streamError = async (e: unknown): Promise<ApiError> => {
  if (e instanceof Response) {
    const text = await e.text().catch(() => "")
    try {
      const j = JSON.parse(text) as { error?: { code: string; message: string } }
      if (j.error) return new ApiError(e.status, j.error.code, j.error.message)
    } catch { /* not JSON */ }
    return new ApiError(e.status, `HTTP_${e.status}`, text.slice(0, 200))
  }
  return e instanceof ApiError
    ? e
    : new ApiError(0, "NETWORK_ERROR", `Progress stream failed (${e instanceof Error ? e.message : String(e)})`)
}

export const makeLoader = (d: LoadDeps) => {
  const state: LoadState = {
    operationId: null,
    status: "idle",
    percentage: 0,
    maxPercentage: 0,
    failureCode: null,
    events: 0
  }
  let abort: AbortController | null = null

  const show = (info: OperationInfo) => {
    state.status = info.status
    state.percentage = info.progress.percentage
    state.maxPercentage = Math.max(state.maxPercentage, info.progress.percentage)
    d.progress.value = info.progress.percentage
    d.progress.textContent = `${Math.round(info.progress.percentage)}%`
    d.status.textContent = describe(info)
  }

  const idle = () => {
    d.button.disabled = false
    d.cancel.disabled = true
    abort = null
  }

  const finish = (info: OperationInfo) => {
    show(info)
    const s = info.result_summary
    if (info.status === "completed") {
      d.status.textContent = `Completed: ${Number(s?.["fetched_bars"] ?? 0).toLocaleString("en-US")} bars fetched, ${
        Number(s?.["new_bars"] ?? 0).toLocaleString("en-US")
      } new, ${Number(s?.["total_bars"] ?? 0).toLocaleString("en-US")} stored.`
    } else if (info.status === "cancelled") {
      d.status.textContent = `Cancelled at ${Math.round(info.progress.percentage)}% (bars fetched so far are kept).`
    } else {
      const code = info.failure?.code ?? "LOAD_FAILED"
      state.failureCode = code
      d.status.textContent = `Failed (${code}).`
      d.onError(new ApiError(200, code, info.failure?.message ?? info.error_message ?? "The load failed"))
    }
    idle()
    d.onEnd(info)
  }

  /** Follows the operation until its `end` event; reconnects when the stream drops early. */
  const follow = async (id: string, signal: AbortSignal) => {
    for (let attempt = 0;; attempt++) {
      let ended = false
      await readEvents(`/api/v1/operations/${seg(id)}/events`, (m) => {
        if (m.event !== "progress" && m.event !== "end") return
        const info = JSON.parse(m.data) as OperationInfo
        state.events++
        if (m.event === "end") {
          ended = true
          finish(info)
          return "stop"
        }
        show(info)
      }, signal)
      if (ended || signal.aborted) return
      if (attempt >= RECONNECTS) throw new ApiError(0, "STREAM_ENDED", "The progress stream ended before the load did")
      await sleep(1000)
    }
  }

  const start = async () => {
    const target = d.target()
    if (target === null || abort !== null) return
    state.operationId = null
    state.failureCode = null
    state.maxPercentage = 0
    state.events = 0
    state.status = "starting"
    d.button.disabled = true
    d.progress.value = 0
    d.status.textContent = `Starting ${target.mode} load of ${target.symbol} ${target.timeframe}…`
    const controller = new AbortController()
    abort = controller
    try {
      const started = await request<{ status: string; operation_id: string | null }>(
        `/api/v1/data/load?${q({ async_mode: "true" })}`,
        { method: "POST", body: target }
      )
      if (started.operation_id === null) {
        throw new ApiError(200, "LOAD_NOT_STARTED", `The server answered status ${started.status} without an operation`)
      }
      state.operationId = started.operation_id
      d.cancel.disabled = false
      await follow(started.operation_id, controller.signal)
    } catch (e) {
      if (controller.signal.aborted) return
      const err = await streamError(e)
      state.status = "error"
      d.status.textContent = `Load failed (${err.code}).`
      d.onError(err)
      idle()
    }
  }

  const cancel = async () => {
    const id = state.operationId
    if (id === null) return
    d.cancel.disabled = true
    d.status.textContent = "Cancelling… (waiting for the checkpoint to be saved)"
    try {
      await request(`/api/v1/operations/${seg(id)}`, {
        method: "DELETE",
        body: { reason: "Cancelled from the chart page" }
      })
      // The stream's `end` event reports the final state.
    } catch (e) {
      // A load that finished meanwhile cannot be cancelled; its `end` event already says how it ended.
      if (e instanceof ApiError && e.status === 409) return
      d.onError(e instanceof ApiError ? e : new ApiError(0, "CANCEL_FAILED", String(e)))
      d.cancel.disabled = false
    }
  }

  d.button.addEventListener("click", () => void start())
  d.cancel.addEventListener("click", () => void cancel())
  return { state }
}
