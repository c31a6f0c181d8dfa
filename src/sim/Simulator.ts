/** The simulator as an Effect resource: started in a scope, closed with it (every socket and timer). */
import { Context, Effect, Layer } from "effect"
import { GatewaySimulator, type SimulatorOptions } from "./GatewaySimulator.ts"

export class Simulator extends Context.Tag("ktrdr/sim/Simulator")<Simulator, GatewaySimulator>() {
  static readonly make = (options: SimulatorOptions = {}) =>
    Effect.acquireRelease(
      Effect.promise(() => GatewaySimulator.start(options)),
      (sim) => Effect.promise(() => sim.close()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    )

  static readonly layer = (options: SimulatorOptions = {}) => Layer.scoped(Simulator, Simulator.make(options))
}
