/**
 * The demo wiring: the one place in src/ (besides src/sim itself) that reaches the gateway simulator —
 * `ktrdr serve --sim`, `npm start`, `ktrdr sim` and the runtime's `startSimulator` come through here.
 * The simulator is a stand-in gateway, never a dependency of the product's own code.
 */
export { simCommand } from "../sim/command.ts"
export type { SimulatorOptions } from "../sim/GatewaySimulator.ts"
export { Simulator } from "../sim/Simulator.ts"
