/**
 * The multi-process test harness in one import: simulators and `ktrdr serve` processes, the KTRDR API calls
 * tests make, and the cluster's shard-split wait. Call `killAll()` in afterEach/afterAll; the processes also die
 * with the test process.
 */
export {
  afterKillAll,
  type ExitInfo,
  killAll,
  liveProcesses,
  type ManagedProcess,
  spawnNode,
  survivingPids
} from "./childProcess.ts"
export { freePort } from "./freePort.ts"
export {
  ApiError,
  cancelOperation,
  getOperation,
  ibRequestsOf,
  listOperations,
  loadAndWait,
  readBars,
  startLoad,
  waitForOperation,
  type Bars,
  type LoadBody,
  type OperationInfo,
  type Operations
} from "./ktrdrApi.ts"
export { gatewayEnv, type ServerProcess, spawnServer, type SpawnServerOptions } from "./serverProcess.ts"
export { RUNNER_APP_PREFIX, shardSplit, type ShardSplit, waitForShardSplit } from "./shardSplit.ts"
export { type SimProcess, spawnSim, type SpawnSimOptions } from "./simProcess.ts"
