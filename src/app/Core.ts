/**
 * The composition root of the core graph: configuration → gateway session → store, catalog, data
 * manager and the operations registry. Built once per process (server, embedded CLI, library runtime):
 * two builds would open two gateway sessions. With KTRDR_IB_HOST_SERVICE_URL set (or `ibHost`), the
 * gateway is another server's, reached through RemoteIb, and this process opens no IB socket.
 */
import { type ConfigError, Effect, Layer, Option } from "effect"
import { DataManagerLive } from "../services/DataManager.ts"
import { OperationsLive } from "../services/Operations.ts"
import { SymbolCatalogLive } from "../services/SymbolCatalog.ts"
import { BarStore } from "../layers/BarStore.ts"
import { IbConfig } from "../layers/Config.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { GatewayInfo } from "../layers/GatewayInfo.ts"
import { IbClient, IbClientLive } from "../layers/IbClient.ts"
import { IbConnectionLazy, IbConnectionLive } from "../layers/IbConnection.ts"
import { PaceGate } from "../layers/PaceGate.ts"
import { RemoteIbConfig, remoteIb, type RemoteIbOptions } from "../layers/RemoteIb.ts"

export interface CoreOptions {
  /** The gateway is the built-in simulator: said in /health and the logs. */
  readonly simulated?: boolean
  /** Replaces the IB configuration from the environment (tests, `ktrdr serve --sim`). */
  readonly ibConfig?: Layer.Layer<IbConfig, ConfigError.ConfigError>
  readonly dataConfig?: Layer.Layer<DataConfig, ConfigError.ConfigError>
  /**
   * Use another server's gateway session (RemoteIb) instead of opening one; `false` opens one whatever
   * the environment says. Default: KTRDR_IB_HOST_SERVICE_URL (+ KTRDR_API_TOKEN) when set.
   */
  readonly ibHost?: RemoteIbOptions | false
  /** Open the gateway session on first need instead of at once (the embedded CLI). Default false. */
  readonly lazyGateway?: boolean
}

/** IbConnection + PaceGate + IbClient: this process owns the gateway session. */
export const directIb = (simulated: boolean, lazy = false) =>
  Layer.mergeAll(IbClientLive, GatewayInfo.direct(simulated)).pipe(
    Layer.provideMerge(Layer.merge(lazy ? IbConnectionLazy : IbConnectionLive, PaceGate.persistent))
  )

/** How this process reaches the gateway: its own session, or another server's (remote). */
export const gatewayLayer = (
  options: CoreOptions = {}
): Layer.Layer<IbClient | GatewayInfo | PaceGate, ConfigError.ConfigError, IbConfig | DataConfig> => {
  const simulated = options.simulated ?? false
  const lazy = options.lazyGateway ?? false
  if (options.ibHost === false) return directIb(simulated, lazy)
  if (options.ibHost) return remoteIb({ simulated, ...options.ibHost })
  return Layer.unwrapEffect(Effect.map(
    RemoteIbConfig,
    Option.match({
      onNone: (): Layer.Layer<IbClient | GatewayInfo | PaceGate, never, IbConfig | DataConfig> =>
        directIb(simulated, lazy),
      onSome: (remote) => remoteIb({ simulated, ...remote })
    })
  ))
}

export const coreLayer = (options: CoreOptions = {}) =>
  OperationsLive.pipe(
    Layer.provideMerge(DataManagerLive),
    Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
    Layer.provideMerge(gatewayLayer(options)),
    Layer.provideMerge(Layer.merge(options.ibConfig ?? IbConfig.layer, options.dataConfig ?? DataConfig.layer))
  )
