/**
 * The server process: core graph + HTTP server, optionally on the built-in simulator (the demo wiring:
 * `npm start`, `ktrdr serve --sim`). Runs until interrupted (SIGINT/SIGTERM through NodeRuntime), then
 * closes in order: HTTP server (connections dropped), running loads (checkpointed), gateway session,
 * simulator.
 */
import { Effect, Layer } from "effect"
import { ChartRoutes } from "../http/chartRoutes.ts"
import { serverLayer } from "../http/Server.ts"
import { ApiConfig } from "../layers/ApiConfig.ts"
import { IbConfig, IbSettingsConfig } from "../layers/Config.ts"
import { serverCoreLayer } from "./clusterCore.ts"
import { LoggingLive } from "../layers/Logging.ts"
import { Simulator, type SimulatorOptions } from "./demo.ts"

export interface ServeOptions {
  /** Run against the built-in simulator (started here, on a free port) instead of KTRDR_IB_HOST:PORT. */
  readonly sim?: SimulatorOptions | undefined
  /** Extra routes beside the API; default: the chart page (`ChartRoutes`). */
  readonly routes?: Layer.Layer<never, never, never> | undefined
  /**
   * How a user of this entry point switches to a real gateway, said beside the SIMULATED warning
   * (`npm start` and `ktrdr serve --sim` are switched differently).
   */
  readonly realGatewayHint?: string | undefined
  /** Replaces KTRDR_API_* from the environment. */
  readonly api?: Layer.Layer<ApiConfig> | undefined
}

/** Realistic demo latencies for the simulator behind `npm start`. */
export const DEMO_SIM: SimulatorOptions = { latencyMs: 20, perBarUs: 20 }

export const serve = (o: ServeOptions = {}) =>
  Effect.gen(function*() {
    let ibConfig = IbConfig.layer
    if (o.sim) {
      const gw = yield* Simulator.make({ port: 0, ...o.sim })
      yield* Effect.logWarning(
        `SIMULATED gateway: the built-in TWS simulator on 127.0.0.1:${gw.port} serves synthetic bars ` +
          `(${o.realGatewayHint ?? "for a real gateway: set KTRDR_IB_HOST/KTRDR_IB_PORT and drop --sim"})`
      )
      ibConfig = Layer.effect(
        IbConfig,
        Effect.map(IbSettingsConfig, (s) => ({ ...s, host: "127.0.0.1", port: gw.port }))
      )
    }
    // The chart page is served unless the caller passes other routes (Layer.empty for none).
    const layer = serverLayer({ routes: o.routes ?? ChartRoutes }).pipe(
      // With --sim the simulator is the gateway, whatever KTRDR_IB_HOST_SERVICE_URL says.
      Layer.provideMerge(
        serverCoreLayer({ simulated: o.sim !== undefined, ibConfig, ...(o.sim ? { ibHost: false as const } : {}) })
      ),
      Layer.provide(o.api ?? ApiConfig.layer)
    )
    return yield* Layer.launch(layer)
  }).pipe(Effect.scoped, Effect.provide(LoggingLive))
