/**
 * Cluster mode's settings. `KTRDR_CLUSTER_RUNNER=host:port` turns it on: this `ktrdr serve` is a runner of the cluster
 * on KTRDR_DATABASE_URL, reachable by the other runners at that address. `KTRDR_IB_GATEWAYS` lists the gateways the
 * cluster shares (gatewayList.ts); unset, the one gateway of KTRDR_IB_HOST/PORT/CLIENT_ID, named `default`.
 */
import { RunnerAddress, type ShardingConfig } from "@effect/cluster"
import { Config, ConfigError, Duration, Either, Option } from "effect"
import { type GatewayEntry, parseGatewayList, parseHostPort } from "../domain/gatewayList.ts"

export interface ClusterSettings {
  readonly runner: { readonly host: string; readonly port: number }
  /** None: one gateway from KTRDR_IB_HOST/PORT/CLIENT_ID. */
  readonly gateways: Option.Option<ReadonlyArray<GatewayEntry>>
}

/** None when cluster mode is off (KTRDR_CLUSTER_RUNNER unset or empty). */
export const ClusterSettingsConfig: Config.Config<Option.Option<ClusterSettings>> = Config.all({
  runner: Config.option(Config.string("KTRDR_CLUSTER_RUNNER")),
  gateways: Config.option(Config.string("KTRDR_IB_GATEWAYS"))
}).pipe(Config.mapOrFail(({ gateways, runner }) => {
  const raw = Option.getOrElse(runner, () => "").trim()
  if (raw === "") return Either.right(Option.none())
  const address = parseHostPort(raw)
  if (Either.isLeft(address)) return Either.left(ConfigError.InvalidData(["KTRDR_CLUSTER_RUNNER"], address.left))
  const list = Option.filter(gateways, (g) => g.trim() !== "")
  if (Option.isNone(list)) return Either.right(Option.some({ runner: address.right, gateways: Option.none() }))
  const parsed = parseGatewayList(list.value)
  if (Either.isLeft(parsed)) return Either.left(ConfigError.InvalidData(["KTRDR_IB_GATEWAYS"], parsed.left))
  if (parsed.right.length === 0) {
    return Either.left(ConfigError.InvalidData(["KTRDR_IB_GATEWAYS"], "lists no gateway"))
  }
  return Either.right(Option.some({ runner: address.right, gateways: Option.some(parsed.right) }))
}))

/**
 * Every process of a cluster must use the same shard count (reference pitfall 3), so it is fixed here rather than read
 * from the environment. The timings detect a dead runner in about 3–5 s (a health check every 2 s, then pings), so a
 * gateway's next request reaches its new owner well within 10 s; a runner whose heartbeat is 10 s old loses its shards.
 */
export const shardingConfig = (runner: ClusterSettings["runner"]): Partial<ShardingConfig.ShardingConfig["Type"]> => ({
  runnerAddress: Option.some(RunnerAddress.make(runner.host, runner.port)),
  shardsPerGroup: 300,
  shardLockRefreshInterval: Duration.seconds(1),
  shardLockExpiration: Duration.seconds(10),
  runnerHealthCheckInterval: Duration.seconds(2),
  refreshAssignmentsInterval: Duration.seconds(1),
  entityMessagePollInterval: Duration.seconds(1),
  entityReplyPollInterval: Duration.millis(50),
  sendRetryInterval: Duration.millis(50),
  entityTerminationTimeout: Duration.seconds(5)
})
