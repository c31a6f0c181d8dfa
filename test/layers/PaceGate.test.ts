import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Layer, Ref, Stream, TestClock } from "effect"
import type { PaceEntry, PaceRequest } from "../../src/domain/PacingRules.ts"
import { IbConfig, type IbSettings } from "../../src/layers/Config.ts"
import { PaceGate, type PaceGateOptions } from "../../src/layers/PaceGate.ts"
import { Pacing } from "../../src/sim/pacing.ts"

/** Margin 100 ms and no send spacing unless a test says otherwise, so the expected times read easily. */
const gateLayer = (settings: Partial<IbSettings> = {}, options: PaceGateOptions = {}) =>
  PaceGate.layerWith({ marginMs: 100, sendSpacingMs: 0, ...options }).pipe(
    Layer.provide(IbConfig.make({ maxInFlight: 50, pacingTimeScale: 1, largeBarSpacing: Duration.zero, ...settings }))
  )

const small = (identity: string, contract = "AAPL", weight: 1 | 2 = 1): PaceRequest => ({
  identity,
  contract,
  weight,
  small: true
})
const large = (identity: string): PaceRequest => ({ identity, contract: identity, weight: 1, small: false })

/** Runs every request through the gate at once; `use` records its (virtual) send time. */
const sendAll = (requests: ReadonlyArray<PaceRequest>, use: Effect.Effect<void> = Effect.void) =>
  Effect.gen(function*() {
    const gate = yield* PaceGate
    const sent: Array<PaceEntry> = []
    const record = (r: PaceRequest) =>
      Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => sent.push({ ...r, t })))
    return {
      sent,
      fiber: yield* Effect.forEach(requests, (r) => gate.run(r, Effect.zipRight(record(r), use)), {
        concurrency: "unbounded",
        discard: true
      }).pipe(Effect.fork)
    }
  })

/** What the simulator's own rules say about the send times, replayed in order. */
const violations = (sent: ReadonlyArray<PaceEntry>, scale = 1) => {
  const sim = new Pacing("strict", scale)
  return [...sent].sort((a, b) => a.t - b.t).flatMap((e) => sim.admit(e, e.t) ?? [])
}

const timesOf = (sent: ReadonlyArray<PaceEntry>, contract: string) =>
  sent.filter((e) => e.contract === contract).map((e) => e.t).sort((a, b) => a - b)

describe("PaceGate", () => {
  it.effect("gives concurrent callers distinct, rule-abiding send times", () =>
    Effect.gen(function*() {
      const requests = [
        ...Array.from({ length: 12 }, (_, i) => small(`aapl-${i}`)),
        small("dup", "MSFT"),
        small("dup", "MSFT"),
        ...Array.from({ length: 3 }, (_, i) => small(`eur-${i}`, "EUR", 2))
      ]
      const { sent, fiber } = yield* sendAll(requests)
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      // Five per 2 s window, each later group 2 s + the 100 ms margin after the one it waits out.
      expect(timesOf(sent, "AAPL")).toEqual([0, 0, 0, 0, 0, 2100, 2100, 2100, 2100, 2100, 4200, 4200])
      expect(timesOf(sent, "MSFT")).toEqual([0, 15_100])
      expect(timesOf(sent, "EUR")).toEqual([0, 0, 2100]) // BID_ASK: 2 + 2, the third would make 6
      expect(violations(sent)).toEqual([])
    }).pipe(Effect.provide(gateLayer())))

  it.effect("scales the windows by pacingTimeScale", () =>
    Effect.gen(function*() {
      const { sent, fiber } = yield* sendAll(Array.from({ length: 7 }, (_, i) => small(`q${i}`)))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(timesOf(sent, "AAPL")).toEqual([0, 0, 0, 0, 0, 120, 120])
      expect(violations(sent, 100)).toEqual([])
    }).pipe(Effect.provide(gateLayer({ pacingTimeScale: 100 }, { marginMs: 100 }))))

  it.effect("by default keeps a 500 ms margin and 35 ms between any two sends", () =>
    Effect.gen(function*() {
      const { sent, fiber } = yield* sendAll([...Array.from({ length: 6 }, (_, i) => small(`q${i}`)), large("L")])
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(sent.map((e) => e.t).sort((a, b) => a - b)).toEqual([0, 35, 70, 105, 140, 175, 2500])
      expect(violations(sent)).toEqual([])
    }).pipe(Effect.provide(PaceGate.layer.pipe(Layer.provide(IbConfig.make({ largeBarSpacing: Duration.zero }))))))

  it.effect("never runs more than maxInFlight at once", () =>
    Effect.gen(function*() {
      const gate = yield* PaceGate
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const use = Effect.gen(function*() {
        const n = yield* Ref.updateAndGet(running, (k) => k + 1)
        yield* Ref.update(peak, (p) => Math.max(p, n))
        const seen = yield* gate.stats
        expect(seen.inFlight).toBeLessThanOrEqual(3)
        yield* Effect.sleep("1 second")
        yield* Ref.update(running, (k) => k - 1)
      })
      const { sent, fiber } = yield* sendAll(Array.from({ length: 10 }, (_, i) => large(`L${i}`)), use)
      yield* TestClock.adjust("1 millis")
      expect(yield* gate.stats).toMatchObject({ inFlight: 3, queued: 7 })
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(peak)).toBe(3)
      expect(sent.map((e) => e.t).sort((a, b) => a - b)).toEqual([0, 0, 0, 1000, 1000, 1000, 2000, 2000, 2000, 3000])
      const stats = yield* gate.stats
      expect(stats).toMatchObject({ inFlight: 0, queued: 0 })
      expect(stats.byReason["in-flight"]).toBe(7)
    }).pipe(Effect.provide(gateLayer({ maxInFlight: 3 }))))

  it.effect("a request that waited for an in-flight slot goes when the rules allow; its twin re-plans", () =>
    Effect.gen(function*() {
      // Two slots, held 5 s by the first two requests. "x" is reserved for 0 and its twin for 15 100; "x"
      // can only go at 5000, which breaks no rule against what was sent (a, b), so it goes. Its answer
      // comes at 10 000: the gateway may have seen it that late, so the twin re-plans to 25 100.
      const requests = [small("a"), small("b"), small("x"), small("x")]
      const { sent, fiber } = yield* sendAll(requests, Effect.sleep("5 seconds"))
      yield* TestClock.adjust("2 minutes")
      yield* Fiber.join(fiber)
      expect(violations(sent)).toEqual([])
      expect(timesOf(sent, "AAPL")).toEqual([0, 0, 5000, 25_100])
    }).pipe(Effect.provide(gateLayer({ maxInFlight: 2 }))))

  it.effect("a request the gateway may have seen late pushes the next one back by that much", () =>
    Effect.gen(function*() {
      const gate = yield* PaceGate
      const sent: Array<[string, number]> = []
      const record = (name: string) =>
        Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => void sent.push([name, t])))
      // Two large-bar requests hold both in-flight slots for 20 ms.
      const busy = (name: string) =>
        Effect.fork(gate.run(large(name), Effect.zipRight(record(name), Effect.sleep("20 millis"))))
      const fibers = [yield* busy("a"), yield* busy("b")]
      yield* Effect.yieldNow()
      fibers.push(yield* Effect.fork(gate.run(small("x"), Effect.zipRight(record("x"), Effect.sleep("1 second")))))
      yield* Effect.yieldNow()
      fibers.push(yield* Effect.fork(gate.run(small("x"), record("twin")))) // reserved for 15 100
      yield* TestClock.adjust("1 minute")
      yield* Fiber.joinAll(fibers)
      // "x" goes at 20 (a slot frees) and is answered at 1020: its twin waits 15 100 from that answer.
      expect(sent).toEqual([["a", 0], ["b", 0], ["x", 20], ["twin", 16_120]])
    }).pipe(Effect.provide(gateLayer({ maxInFlight: 2 }))))

  it.effect("an interrupted waiter releases its reservation and its place", () =>
    Effect.gen(function*() {
      const gate = yield* PaceGate
      const sent: Array<number> = []
      const record = Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => sent.push(t)))
      yield* gate.run(small("x"), record) // at 0
      const waiter = yield* Effect.fork(gate.run(small("x"), record)) // reserved for 15 100
      yield* TestClock.adjust("1 second")
      expect(yield* gate.stats).toMatchObject({ queued: 1, inFlight: 0 })
      yield* Fiber.interrupt(waiter)
      expect(yield* gate.stats).toMatchObject({ queued: 0, inFlight: 0 })
      // Had the reservation stayed, this one would have to wait until 30 200.
      const next = yield* Effect.fork(gate.run(small("x"), record))
      yield* TestClock.adjust("15 seconds")
      yield* Fiber.join(next)
      expect(sent).toEqual([0, 15_100])
    }).pipe(Effect.provide(gateLayer())))

  it.effect("an interrupted slot waiter gives its turn back; an interrupted use frees its slot", () =>
    Effect.gen(function*() {
      const gate = yield* PaceGate
      const holder = yield* Effect.fork(gate.run(large("a"), Effect.never))
      const queued = yield* Effect.fork(gate.run(large("b"), Effect.void))
      yield* TestClock.adjust("1 second")
      expect(yield* gate.stats).toMatchObject({ inFlight: 1, queued: 1 })
      yield* Fiber.interrupt(queued)
      yield* Fiber.interrupt(holder)
      expect(yield* gate.stats).toMatchObject({ inFlight: 0, queued: 0 })
      expect(yield* gate.run(large("c"), Effect.succeed("ran"))).toBe("ran")
    }).pipe(Effect.provide(gateLayer({ maxInFlight: 1 }))))

  it.effect("reports every wait in stats and on the waits stream", () =>
    Effect.gen(function*() {
      const gate = yield* PaceGate
      const events = yield* gate.waits.pipe(Stream.take(2), Stream.runCollect, Effect.fork)
      yield* Effect.yieldNow() // let the subscriber subscribe before anything is published
      const { fiber } = yield* sendAll([...Array.from({ length: 6 }, (_, i) => small(`b${i}`)), small("b0")])
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      // Waits are planned, not polled: each caller learns its whole wait up front.
      expect(Chunk.toArray(yield* Fiber.join(events))).toEqual([
        { reason: "burst", ms: 2100, contract: "AAPL" },
        { reason: "identical", ms: 15_100, contract: "AAPL" }
      ])
      const stats = yield* gate.stats
      expect(stats.waits).toBe(2)
      expect(stats.totalWaitMs).toBe(2100 + 15_100)
      expect(stats.byReason).toMatchObject({ burst: 1, identical: 1, window: 0, "in-flight": 0 })
    }).pipe(Effect.provide(gateLayer())))
})
