import { describe, expect, it } from "@effect/vitest"
import { EventName, IBApi } from "@stoqey/ib"
import { Duration, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { IbConfig } from "../../src/layers/Config.ts"
import { IbConnection, IbConnectionLazy, type ConnectionState } from "../../src/layers/IbConnection.ts"
import { IbClient } from "../../src/layers/IbClient.ts"
import { eventually, ibLayer, startSim, testSettings } from "./support.ts"

/** A raw client holding a client id, so the layer meets 326. */
const occupy = (port: number, clientId: number) =>
  Effect.acquireRelease(
    Effect.async<IBApi>((resume) => {
      const api = new IBApi({ host: "127.0.0.1", port, maxReqPerSec: 1000 })
      api.once(EventName.nextValidId, () => resume(Effect.succeed(api)))
      api.connect(clientId)
    }),
    (api) => Effect.sync(() => api.disconnect())
  )

const tags = (states: ReadonlyArray<ConnectionState>) => states.map((s) => s._tag)

/** Records every state the connection passes through, from now on. */
const recordStates = Effect.gen(function*() {
  const conn = yield* IbConnection
  const seen: Array<ConnectionState> = []
  yield* conn.state.changes.pipe(Stream.runForEach((s) => Effect.sync(() => seen.push(s))), Effect.forkScoped)
  return seen
})

describe("IbConnection", () => {
  it.live("is ready only after NEXT_VALID_ID and reports its session", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const ctx = yield* Layer.build(ibLayer(testSettings(sim, { clientId: 7 })))
      const conn = Effect.provide(IbConnection, ctx)
      const c = yield* conn
      yield* c.session({ historical: false })
      const info = yield* c.info
      expect(info.state._tag).toBe("Ready")
      expect(info.clientId).toBe(7)
      expect(info.serverVersion).toBe(193)
      expect(info.accounts).toEqual(["DU1234567"])
      expect(sim.stats().clientIds).toEqual([7])
      const t = yield* Effect.provide(IbClient, ctx).pipe(Effect.flatMap((ib) => ib.currentTime))
      expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(60)
    }).pipe(Effect.scoped))

  it.live("handshake timeout throws the instance away and succeeds once the gateway answers", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      yield* Effect.promise(() => sim.setFaults({ silentHandshake: true }))
      const ctx = yield* Layer.build(ibLayer(testSettings(sim, { connectTimeout: Duration.millis(300) })))
      const c = yield* Effect.provide(IbConnection, ctx)
      const seen = yield* Effect.provide(recordStates, ctx)
      yield* eventually("two handshake attempts", () => sim.stats().totalConnections, (n) => n >= 2)
      // Each timed-out instance's socket is destroyed, so at most the current attempt is open.
      expect(sim.stats().openConnections).toBeLessThanOrEqual(1)
      const info = yield* c.info
      expect(info.lastError?.category).toBe("timeout")
      yield* Effect.promise(() => sim.setFaults({ silentHandshake: false }))
      // An attempt already waiting on a silent socket still times out; the next one succeeds.
      yield* c.state.changes.pipe(Stream.filter((s) => s._tag === "Ready"), Stream.runHead)
      yield* c.session({ historical: false })
      expect(tags(seen)).toContain("Reconnecting")
      expect(tags(seen).at(-1)).toBe("Ready")
      expect(sim.stats().openConnections).toBe(1)
    }).pipe(Effect.scoped))

  it.live("on 326 moves to the next client id", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      yield* occupy(sim.port, 1)
      const ctx = yield* Layer.build(ibLayer(testSettings(sim, { clientId: 1 })))
      const c = yield* Effect.provide(IbConnection, ctx)
      const s = yield* c.session({ historical: false })
      expect(s.clientId).toBe(2)
      expect(sim.stats().clientIds).toEqual([1, 2])
    }).pipe(Effect.scoped))

  it.live(
    "gives up after the configured client-id attempts with a typed error, ≥ 2 s apart",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim()
        for (const id of [1, 2, 3]) yield* occupy(sim.port, id)
        const started = Date.now()
        const ctx = yield* Layer.build(
          ibLayer(
            testSettings(sim, {
              clientId: 1,
              clientIdAttempts: 3,
              reconnectBase: Duration.seconds(30),
              reconnectCap: Duration.seconds(30)
            })
          )
        )
        const c = yield* Effect.provide(IbConnection, ctx)
        const e = yield* c.session({ historical: false }).pipe(Effect.flip)
        expect(e).toMatchObject({ _tag: "IbError", code: 326, category: "client-id-in-use", retryable: true })
        expect(e.message).toContain("1–3")
        const err = yield* c.session({ historical: false }).pipe(
          Effect.flip,
          Effect.timeout("50 millis"),
          Effect.option
        )
        // The call wakes the supervisor (no 30 s back-off for a caller who asks now); the new round of client ids
        // takes ≥ 2 s per id, so there is nothing new to report within 50 ms.
        expect(err._tag).toBe("None")
        const info = yield* c.info
        expect(info.lastError).toMatchObject({ code: 326, category: "client-id-in-use" })
        expect(Date.now() - started).toBeGreaterThanOrEqual(4000)
        // 3 occupiers + 3 ids tried, + the first id of the round the second call started.
        expect(sim.stats().totalConnections).toBeGreaterThanOrEqual(3 + 3)
      }).pipe(Effect.scoped),
    20_000
  )

  it.live(
    "closing the scope leaves no connection open; 100 open/close cycles leak nothing",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim()
        for (let i = 0; i < 100; i++) {
          const scope = yield* Scope.make()
          const ctx = yield* Layer.buildWithScope(ibLayer(testSettings(sim)), scope)
          yield* Effect.provide(IbConnection, ctx).pipe(Effect.flatMap((c) => c.session({ historical: false })))
          yield* Scope.close(scope, Exit.void)
        }
        yield* eventually("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
        expect(sim.stats().totalConnections).toBe(100)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live("interrupting the scope mid-request closes within a second", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ latencyMs: 5000 })
      const scope = yield* Scope.make()
      const ctx = yield* Layer.buildWithScope(ibLayer(testSettings(sim)), scope)
      const ib = yield* Effect.provide(IbClient, ctx)
      const fiber = yield* ib.historicalBars({
        contract: { conId: 265598, exchange: "SMART" },
        end: Date.UTC(2025, 0, 3),
        duration: "1 D",
        barSize: "1 hour",
        whatToShow: "TRADES",
        useRTH: true
      }).pipe(Effect.fork)
      yield* eventually("request at the gateway", () => sim.stats().requests.historical, (n) => n === 1)
      const t = Date.now()
      yield* Fiber.interrupt(fiber)
      yield* Scope.close(scope, Exit.void)
      yield* eventually("no open connections", () => sim.stats().openConnections, (n) => n === 0, 1000)
      expect(Date.now() - t).toBeLessThan(1000)
      expect(sim.stats().historicalCancels).toBe(1)
    }).pipe(Effect.scoped))

  it.live("reconnects when the gateway drops every session, with the state sequence", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const ctx = yield* Layer.build(ibLayer(testSettings(sim)))
      const c = yield* Effect.provide(IbConnection, ctx)
      yield* c.session({ historical: false })
      const seen = yield* Effect.provide(recordStates, ctx)
      yield* Effect.promise(() => sim.setFaults({ dropConnections: true }))
      yield* eventually("reconnected", () => sim.stats().totalConnections, (n) => n === 2)
      yield* c.session({ historical: false })
      const info = yield* c.info
      expect(info.counters.reconnects).toBe(1)
      expect(tags(seen)).toEqual(expect.arrayContaining(["Ready", "Reconnecting", "Connecting"]))
      expect(tags(seen).at(-1)).toBe("Ready")
    }).pipe(Effect.scoped))

  it.live("a silent gateway is detected by the liveness probe and replaced", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const ctx = yield* Layer.build(
        ibLayer(testSettings(sim, { probeInterval: Duration.millis(300), probeTimeout: Duration.millis(300) }))
      )
      const c = yield* Effect.provide(IbConnection, ctx)
      yield* c.session({ historical: false })
      yield* Effect.promise(() => sim.setFaults({ stall: true }))
      const info = yield* eventually("probe failure", () =>
        Effect.runSync(c.info), (i) =>
        i.counters.probeFailures >= 1, 5000)
      expect(info.lastError?.message).toContain("liveness probe")
      yield* Effect.promise(() =>
        sim.setFaults({ stall: false })
      )
      yield* eventually("a fresh session", () => sim.stats().totalConnections, (n) => n >= 2)
      const ib = yield* Effect.provide(IbClient, ctx)
      yield* ib.currentTime
      expect((yield* c.info).counters.reconnects).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped))

  it.live("lazy: no socket until a caller needs the gateway; farms unknown until a session reports them", () =>
    Effect.gen(function*() {
      const sim = yield* startSim()
      const ctx = yield* Layer.build(IbConnectionLazy.pipe(Layer.provide(IbConfig.make(testSettings(sim)))))
      const c = yield* Effect.provide(IbConnection, ctx)
      yield* Effect.sleep("300 millis")
      expect(sim.stats().totalConnections).toBe(0)
      const idle = yield* c.info
      expect(idle.state._tag).toBe("Disconnected")
      expect(idle.farms).toEqual({ hmds: "unknown", connectivity: "unknown" })
      yield* c.session({ historical: false })
      expect(sim.stats().totalConnections).toBe(1)
      expect((yield* c.info).farms).toEqual({ hmds: "ok", connectivity: "ok" })
      // Lost and not back: no session, so nothing is known about the farms.
      yield* Effect.promise(() => sim.setFaults({ refuseConnections: true, dropConnections: true }))
      const down = yield* eventually(
        "reconnecting",
        () => Effect.runSync(c.info),
        (i) => i.state._tag === "Reconnecting"
      )
      expect(down.farms).toEqual({ hmds: "unknown", connectivity: "unknown" })
    }).pipe(Effect.scoped))
})
