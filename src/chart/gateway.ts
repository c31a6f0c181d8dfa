/// <reference lib="dom" />
/**
 * The live gateway badge: `GET /api/v1/ib/events` (Server-Sent Events) tells the page the session's state
 * as it changes — the same facts /health and /ib/status give — and the badge says it in words: "Ready",
 * "Reconnecting: attempt 3, next try in 8 s (connect ECONNREFUSED…)". A broken stream is read again
 * after a pause, and the badge says the server cannot be reached meanwhile.
 */
import { readEvents } from "./sse.ts"

export interface GatewayEvent {
  readonly ready: boolean
  readonly state: string
  readonly mode: "direct" | "remote"
  readonly simulated: boolean
  readonly farms: { readonly hmds: string; readonly connectivity: string } | null
  readonly attempt: number | null
  readonly next_attempt_at: string | null
  readonly last_error: string | null
}

/** The badge's words for one event at `nowMs`. */
export const badgeText = (e: GatewayEvent, nowMs: number): string => {
  const sim = e.simulated ? " (simulated)" : ""
  if (e.state === "Reconnecting" && e.attempt !== null && e.attempt > 0) {
    const next = e.next_attempt_at === null
      ? ""
      : `, next try in ${Math.max(0, Math.ceil((Date.parse(e.next_attempt_at) - nowMs) / 1000))} s`
    return `Gateway: reconnecting — attempt ${e.attempt}${next}${sim}`
  }
  const farms = e.farms !== null && e.farms.hmds !== "ok" && e.farms.hmds !== "unknown"
    ? `, data farm ${e.farms.hmds}`
    : ""
  return `Gateway: ${e.state}${farms}${sim}`
}

export interface GatewayBadge {
  /** The last event received (for tests); null before the first. */
  readonly last: () => GatewayEvent | null
}

export const startGatewayBadge = (el: HTMLElement): GatewayBadge => {
  let last: GatewayEvent | null = null
  const draw = () => {
    if (last === null) return
    el.textContent = badgeText(last, Date.now())
    el.dataset["state"] = last.ready ? "ready" : last.state.toLowerCase()
    el.title = last.last_error ?? ""
  }
  // The countdown moves between events.
  setInterval(draw, 1000)
  const follow = async (): Promise<void> => {
    for (;;) {
      try {
        await readEvents("/api/v1/ib/events", (m) => {
          if (m.event !== "gateway") return
          last = JSON.parse(m.data) as GatewayEvent
          draw()
        }, new AbortController().signal)
      } catch {
        // 401 (no token yet) or the server is gone: say so, try again shortly.
      }
      el.textContent = "Gateway: status unavailable (server not reachable)"
      el.dataset["state"] = "unknown"
      await new Promise((r) => setTimeout(r, 3000))
    }
  }
  void follow()
  return { last: () => last }
}
