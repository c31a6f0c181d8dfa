/**
 * The composition root of the core graph: configuration → gateway session → store, catalog, data
 * manager and the operations registry. Built once per process (server, embedded CLI, library runtime):
 * two builds would open two gateway sessions.
 */
import { type ConfigError, Layer } from "effect"
import { DataManagerLive } from "../services/DataManager.ts"
import { OperationsLive } from "../services/Operations.ts"
import { SymbolCatalogLive } from "../services/SymbolCatalog.ts"
import { BarStore } from "./BarStore.ts"
import { IbConfig } from "./Config.ts"
import { DataConfig } from "./DataConfig.ts"
import { GatewayInfo } from "./GatewayInfo.ts"
import { IbClientLive } from "./IbClient.ts"
import { IbConnectionLive } from "./IbConnection.ts"
import { PaceGate } from "./PaceGate.ts"

export interface CoreOptions {
  /** The gateway is the built-in simulator: said in /health and the logs. */
  readonly simulated?: boolean
  /** Replaces the IB configuration from the environment (tests, `ktrdr serve --sim`). */
  readonly ibConfig?: Layer.Layer<IbConfig, ConfigError.ConfigError>
  readonly dataConfig?: Layer.Layer<DataConfig, ConfigError.ConfigError>
}

/** IbConnection + PaceGate + IbClient: this process owns the gateway session. */
export const directIb = (simulated: boolean) =>
  Layer.mergeAll(IbClientLive, GatewayInfo.direct(simulated)).pipe(Layer.provideMerge(Layer.merge(IbConnectionLive, PaceGate.layer)))

export const coreLayer = (options: CoreOptions = {}) =>
  OperationsLive.pipe(
    Layer.provideMerge(DataManagerLive),
    Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
    Layer.provideMerge(directIb(options.simulated ?? false)),
    Layer.provideMerge(Layer.merge(options.ibConfig ?? IbConfig.layer, options.dataConfig ?? DataConfig.layer))
  )
