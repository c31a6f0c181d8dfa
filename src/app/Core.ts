/**
 * The composition root of the core graph: configuration → gateway session → store, catalog, data
 * manager and the operations registry. Built once per process (server, embedded CLI, library runtime):
 * two builds would open two gateway sessions. With KTRDR_IB_HOST_SERVICE_URL set (or `ibHost`), the
 * gateway is another server's, reached through RemoteIb, and this process opens no IB socket.
 */
import { type ConfigError, Effect, Layer, Option, Redacted } from "effect"
import { DataManagerLive } from "../services/DataManager.ts"
import { OperationsLive } from "../services/Operations.ts"
import { symbolCatalogLayer } from "../services/SymbolCatalog.ts"
import { BarStore } from "../layers/BarStore.ts"
import { IbConfig } from "../layers/Config.ts"
import { DatabaseConfig, describeDatabase } from "../layers/DatabaseConfig.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { pgBarStoreLayer } from "../layers/PgBarStore.ts"
import { pgDatabase } from "../layers/pgDatabase.ts"
import { pgSymbolCacheLayer } from "../layers/pgSymbolCache.ts"
import { SymbolCacheStore } from "../layers/SymbolCacheStore.ts"
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
  /** Replaces KTRDR_DATABASE_URL from the environment (`DatabaseConfig.make(url)`; undefined = the CSV store). */
  readonly databaseConfig?: Layer.Layer<DatabaseConfig, ConfigError.ConfigError>
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

/**
 * Where bars and the symbol cache live: KTRDR's CSV files under KTRDR_DATA_DIR, or the PostgreSQL database of
 * KTRDR_DATABASE_URL (reached and migrated before anything starts; unreachable fails the build with one line).
 */
export const storageLayer = (database: Layer.Layer<DatabaseConfig, ConfigError.ConfigError> = DatabaseConfig.layer) =>
  Layer.unwrapEffect(Effect.map(DatabaseConfig, ({ url }) =>
    Option.match(url, {
      onNone: () => Layer.merge(BarStore.layer, SymbolCacheStore.file),
      onSome: (u) => {
        const where = describeDatabase(Redacted.value(u))
        return Layer.merge(pgBarStoreLayer(where), pgSymbolCacheLayer(where)).pipe(Layer.provide(pgDatabase(u)))
      }
    }))).pipe(Layer.provide(database))

export const coreLayer = (options: CoreOptions = {}) =>
  OperationsLive.pipe(
    Layer.provideMerge(DataManagerLive),
    Layer.provideMerge(symbolCatalogLayer),
    // storage first: an unreachable database ends the start before a gateway session is opened
    Layer.provideMerge(gatewayLayer(options)),
    Layer.provideMerge(storageLayer(options.databaseConfig)),
    Layer.provideMerge(Layer.merge(options.ibConfig ?? IbConfig.layer, options.dataConfig ?? DataConfig.layer))
  )
