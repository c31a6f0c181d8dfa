/**
 * The composition root of a cluster runner (`ktrdr serve` with KTRDR_CLUSTER_RUNNER): the same services under the
 * same tags as the single-process core, on other layers. The bar store, the symbol cache, the operations table and
 * the cluster's own runner and message storage share one PostgreSQL pool; the IB client reaches the gateways through
 * their entities; Operations is the table-backed registry whose loads are workflows. Every runner serves the whole API.
 */
import { ClusterWorkflowEngine } from "@effect/cluster"
import { SqlClient } from "@effect/sql"
import { NodeClusterSocket } from "@effect/platform-node"
import { ConfigError, Effect, Layer, Option, Redacted } from "effect"
import { ClusterGateways, GatewayLive } from "../cluster/GatewayEntity.ts"
import { ClusterOperationsLive } from "../cluster/ClusterOperations.ts"
import { ClusterSettingsConfig, type ClusterSettings, shardingConfig } from "../cluster/ClusterConfig.ts"
import { clusterIbLayer } from "../cluster/ClusterIb.ts"
import { LoadWorkflowLive } from "../cluster/LoadWorkflow.ts"
import { startOneAtATime } from "../cluster/clusterStart.ts"
import { OperationsTable } from "../cluster/operationsTable.ts"
import { SeriesLockPool } from "../cluster/seriesLock.ts"
import { DataManagerLive } from "../services/DataManager.ts"
import { symbolCatalogLayer } from "../services/SymbolCatalog.ts"
import { IbConfig } from "../layers/Config.ts"
import { DatabaseConfig, describeDatabase } from "../layers/DatabaseConfig.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { pgBarStoreLayer } from "../layers/PgBarStore.ts"
import { pgDatabase } from "../layers/pgDatabase.ts"
import { pgSymbolCacheLayer } from "../layers/pgSymbolCache.ts"
import { coreLayer, type CoreOptions } from "./Core.ts"

const needsDatabase = ConfigError.InvalidData(
  ["KTRDR_DATABASE_URL"],
  "cluster mode (KTRDR_CLUSTER_RUNNER) needs the shared PostgreSQL database: set KTRDR_DATABASE_URL"
)

export const clusterCoreLayer = (settings: ClusterSettings, url: Redacted.Redacted<string>, options: CoreOptions) => {
  const where = describeDatabase(Redacted.value(url))
  const { host, port } = settings.runner
  // Two pools: the bar store reads bigints as numbers (epoch ms), the cluster's snowflake ids need them as strings.
  const storeDb = pgDatabase(url, { maxConnections: 10 })
  const clusterDb = pgDatabase(url, {
    maxConnections: 10,
    applicationName: `ktrdr-runner-${host}:${port}`,
    bigintAsString: true
  })
  const storage = Layer.merge(pgBarStoreLayer(where), pgSymbolCacheLayer(where)).pipe(Layer.provide(storeDb))
  // One connection per running load's series lock, apart from the cluster's pool (seriesLock.ts).
  const lockPool = Layer.effect(SeriesLockPool, SqlClient.SqlClient).pipe(
    Layer.provide(pgDatabase(url, { maxConnections: 32, applicationName: `ktrdr-locks-${host}:${port}` }))
  )
  const gateways = Layer.effect(
    ClusterGateways,
    Effect.map(IbConfig, (ib) => ({
      list: Option.getOrElse(settings.gateways, () => [
        { name: "default", host: ib.host, port: ib.port, clientId: ib.clientId }
      ]),
      simulated: options.simulated ?? false
    }))
  )
  const engine = startOneAtATime(ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({ storage: "sql", shardingConfig: shardingConfig(settings.runner) }))
  )).pipe(Layer.provideMerge(OperationsTable.layer), Layer.provideMerge(clusterDb))
  // Each fetched segment is persisted as it lands: a load resumed on another runner plans from what is stored.
  const dataConfig = Layer.effect(
    DataConfig,
    Effect.map(DataConfig, (c) => ({ ...c, checkpointEverySegments: 1 }))
  ).pipe(Layer.provide(options.dataConfig ?? DataConfig.layer))
  return Layer.mergeAll(ClusterOperationsLive, LoadWorkflowLive, GatewayLive).pipe(
    Layer.provideMerge(DataManagerLive),
    Layer.provideMerge(symbolCatalogLayer),
    Layer.provideMerge(clusterIbLayer),
    Layer.provideMerge(gateways),
    Layer.provideMerge(engine),
    Layer.provideMerge(Layer.merge(storage, lockPool)),
    Layer.provideMerge(Layer.merge(options.ibConfig ?? IbConfig.layer, dataConfig))
  )
}

/** `ktrdr serve`'s core: a cluster runner when KTRDR_CLUSTER_RUNNER is set, else the single-process core. */
export const serverCoreLayer = (options: CoreOptions) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      const cluster = yield* ClusterSettingsConfig
      if (Option.isNone(cluster)) return coreLayer(options)
      const { url } = yield* DatabaseConfig
      if (Option.isNone(url)) return yield* Effect.fail(needsDatabase)
      return clusterCoreLayer(cluster.value, url.value, options)
    }).pipe(Effect.provide(options.databaseConfig ?? DatabaseConfig.layer))
  )
