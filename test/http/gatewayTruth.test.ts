/**
 * Issue 11 over HTTP: /health, /ib/status and the /ib/events stream tell the same truth about the gateway
 * (farms "unknown" while there is no session), and a load against a gateway that is down answers fast.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { raw, startServer } from "./support.ts"

const json = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

/** Polls until `check` holds (fails the test after `ms`). */
const until = <A, E, R>(what: string, get: Effect.Effect<A, E, R>, check: (a: A) => boolean, ms = 10_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + ms
    for (;;) {
      const a = yield* get
      if (check(a)) return a
      if (Date.now() > deadline) {
        return yield* Effect.die(new Error(`timed out waiting for ${what}: ${JSON.stringify(a)}`))
      }
      yield* Effect.sleep("50 millis")
    }
  })

interface GatewayEvent {
  readonly ready: boolean
  readonly state: string
  readonly farms: { readonly hmds: string; readonly connectivity: string } | null
  readonly attempt: number | null
  readonly next_attempt_at: string | null
  readonly last_error: string | null
}

/** Reads `gateway` events from /ib/events until `stop` says so; returns them all. */
const gatewayEvents = (baseUrl: string, stop: (e: GatewayEvent) => boolean, ms = 15_000) =>
  Effect.promise(async () => {
    const ctl = new AbortController()
    const timer = setTimeout(() => ctl.abort(), ms)
    const seen: Array<GatewayEvent> = []
    try {
      const res = await fetch(`${baseUrl}/api/v1/ib/events`, { signal: ctl.signal })
      expect(res.headers.get("content-type")).toContain("text/event-stream")
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
      let buf = ""
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buf += value
        let i: number
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const frame = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const data = frame.split("\n").find((l) => l.startsWith("data: "))
          if (!frame.includes("event: gateway") || data === undefined) continue
          const e = JSON.parse(data.slice(6)) as GatewayEvent
          seen.push(e)
          if (stop(e)) {
            await reader.cancel()
            return seen
          }
        }
      }
    } catch {
      /* aborted: the caller sees what came */
    } finally {
      clearTimeout(timer)
    }
    return seen
  })

describe("the gateway's status tells the truth", () => {
  it.live(
    "while there is no session: unknown farms, the same state everywhere; the live stream follows it",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer({
          ib: { reconnectBase: Duration.millis(300), reconnectCap: Duration.millis(600) }
        })
        yield* until("ready", raw(s.baseUrl, "/api/v1/health"), (r) => r.json.gateway.ready === true)
        const up = (yield* raw(s.baseUrl, "/api/v1/ib/status")).json.data
        expect(up.farms).toEqual({ hmds: "ok", connectivity: "ok" })

        const events = yield* Effect.fork(
          gatewayEvents(s.baseUrl, (e) => e.state === "Reconnecting" && (e.attempt ?? 0) >= 1)
        )
        yield* Effect.sleep("200 millis")
        yield* Effect.promise(() => s.sim.setFaults({ refuseConnections: true, dropConnections: true }))
        const health = yield* until(
          "a failed attempt",
          raw(s.baseUrl, "/api/v1/health"),
          (r) => r.json.gateway.state === "Reconnecting"
        )
        const status = (yield* raw(s.baseUrl, "/api/v1/ib/status")).json.data
        // Nobody can know the farms without a session: not "ok".
        expect(health.json.gateway).toMatchObject({ ready: false, farms: { hmds: "unknown", connectivity: "unknown" } })
        expect(status).toMatchObject({
          state: "Reconnecting",
          ib_available: false,
          farms: { hmds: "unknown", connectivity: "unknown" }
        })
        expect(status.connection.connected).toBe(false)
        const seen = yield* Fiber.join(events)
        expect(seen[0]).toMatchObject({ ready: true, state: "Ready", farms: { hmds: "ok", connectivity: "ok" } })
        const last = seen.at(-1)!
        expect(last).toMatchObject({
          ready: false,
          state: "Reconnecting",
          farms: { hmds: "unknown", connectivity: "unknown" }
        })
        expect(last.last_error).toContain("ECONNREFUSED")

        // Back: every view says Ready again.
        yield* Effect.promise(() => s.sim.setFaults({ refuseConnections: false }))
        yield* until("ready again", raw(s.baseUrl, "/api/v1/health"), (r) => r.json.gateway.ready === true)
        const again = yield* gatewayEvents(s.baseUrl, () => true)
        expect(again[0]).toMatchObject({ ready: true, state: "Ready", farms: { hmds: "ok", connectivity: "ok" } })
        expect((yield* raw(s.baseUrl, "/api/v1/ib/status")).json.data.farms).toEqual({ hmds: "ok", connectivity: "ok" })
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a sync load against a gateway that is down: 503 IB-502 within the connect timeout + 2 s",
    () =>
      Effect.gen(function*() {
        const connectTimeout = Duration.seconds(2)
        const s = yield* startServer({
          ib: { connectTimeout, reconnectBase: Duration.seconds(20), reconnectCap: Duration.seconds(20) }
        })
        yield* until("ready", raw(s.baseUrl, "/api/v1/health"), (r) => r.json.gateway.ready === true)
        yield* Effect.promise(() => s.sim.setFaults({ refuseConnections: true, dropConnections: true }))
        yield* until("down", raw(s.baseUrl, "/api/v1/health"), (r) => r.json.gateway.state === "Reconnecting")
        const t0 = Date.now()
        const r = yield* raw(s.baseUrl, "/api/v1/data/load", json({ symbol: "AAPL", timeframe: "1d", mode: "tail" }))
        expect(Date.now() - t0).toBeLessThan(Duration.toMillis(connectTimeout) + 2000)
        expect(r.status).toBe(503)
        expect(r.json.error.code).toBe("IB-502")
        expect(r.json.error.message).toContain(`127.0.0.1:${s.sim.port}`)
        expect(r.json.error.message).toContain("wait_for_gateway")
      }).pipe(Effect.scoped),
    30_000
  )
})
