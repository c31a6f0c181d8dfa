/** Test wiring: a simulator per test and the IB layers pointed at it, all closed with the test's scope. */
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import { Simulator } from "../../src/sim/Simulator.ts"
import { IbConfig, type IbSettings } from "../../src/layers/Config.ts"
import { IbConnectionLive } from "../../src/layers/IbConnection.ts"
import { IbClientLive } from "../../src/layers/IbClient.ts"
import { PaceGate } from "../../src/layers/PaceGate.ts"

/** Fast timings so fault paths resolve in test time; each test overrides what it exercises. */
export const testSettings = (sim: GatewaySimulator, overrides: Partial<IbSettings> = {}): Partial<IbSettings> => ({
  host: "127.0.0.1",
  port: sim.port,
  clientId: 1,
  connectTimeout: Duration.seconds(2),
  requestTimeout: Duration.seconds(10),
  probeInterval: Duration.seconds(30),
  probeTimeout: Duration.seconds(2),
  reconnectBase: Duration.millis(100),
  reconnectCap: Duration.millis(500),
  pacingBackoff: Duration.seconds(30),
  largeBarSpacing: Duration.millis(0),
  ...overrides
})

/** IbConnection + PaceGate + IbClient over the given settings. */
export const ibLayer = (settings: Partial<IbSettings>) => {
  const config = IbConfig.make(settings)
  return IbClientLive.pipe(
    Layer.provideMerge(Layer.merge(IbConnectionLive, PaceGate.layer)),
    Layer.provide(config),
    // Connection chatter (info logs) would bury test output; warnings still show.
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
}

/** A simulator for the test's scope; closing it fails the test if it left a request unanswered (its /stats counter). */
export const startSim = (options: SimulatorOptions = {}) =>
  Simulator.make(options).pipe(
    Effect.tap((sim) =>
      Effect.addFinalizer(() => {
        const n = sim.stats().unanswered
        return n > 0 ? Effect.die(new Error(`the simulator left ${n} requests unanswered`)) : Effect.void
      })
    )
  )

/** Polls `check` until it holds (or fails the test after `ms`); for effects of asynchronous I/O. */
export const eventually = <A>(what: string, get: () => A, check: (a: A) => boolean, ms = 3000) =>
  Effect.gen(function*() {
    const until = Date.now() + ms
    for (;;) {
      const a = get()
      if (check(a)) return a
      if (Date.now() > until) {
        return yield* Effect.die(new Error(`timed out waiting for ${what}; last value ${JSON.stringify(a)}`))
      }
      yield* Effect.sleep("20 millis")
    }
  })
