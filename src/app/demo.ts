/**
 * The demo wiring: the one place in src/ (besides src/sim itself) that reaches the gateway simulator —
 * `ktrdr serve --sim`, `npm start` and the runtime's `startSimulator` come through here.
 * The simulator is a stand-in gateway, never a dependency of the product's own code.
 */
export type { SimulatorOptions } from "../sim/GatewaySimulator.ts"
export { Simulator } from "../sim/Simulator.ts"
