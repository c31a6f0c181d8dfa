/**
 * A cluster for tests: a private PostgreSQL, simulator processes as gateways, and `ktrdr serve` runners in cluster
 * mode on one database. Runners refuse to move to another client id after a 326 (attempts 1), so a second session
 * with one client id would show as a refusal in the simulator's evidence instead of being papered over.
 */
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"
import { freePort, type ServerProcess, type SimProcess, spawnServer, waitForShardSplit } from "../support/processes.ts"

export interface TestCluster {
  readonly pg: PgCluster
  readonly url: string
  readonly database: string
  readonly gateways: string
  readonly dataDir?: string
  readonly runners: Array<ServerProcess>
  readonly start: (label: string) => Promise<ServerProcess>
  readonly waitForSplit: (expected: number) => Promise<void>
}

export const gatewayList = (sims: ReadonlyArray<SimProcess>) =>
  sims.map((s, i) => `gw${i + 1}=127.0.0.1:${s.port}/1`).join(",")

export const startCluster = async (
  sims: ReadonlyArray<SimProcess>,
  o: { readonly env?: Record<string, string>; readonly pg?: PgCluster } = {}
): Promise<TestCluster> => {
  const pg = o.pg ?? (await startPgCluster())
  const url = await pg.createDatabase()
  const database = new URL(url).pathname.slice(1)
  const gateways = gatewayList(sims)
  const runners: Array<ServerProcess> = []
  const start = async (label: string) => {
    const port = await freePort()
    const r = await spawnServer({
      label,
      env: {
        KTRDR_DATABASE_URL: url,
        KTRDR_CLUSTER_RUNNER: `127.0.0.1:${port}`,
        KTRDR_IB_GATEWAYS: gateways,
        KTRDR_IB_CLIENT_ID_ATTEMPTS: "1",
        KTRDR_LOG_LEVEL: "Info",
        ...o.env
      }
    })
    runners.push(r)
    return r
  }
  return {
    pg,
    url,
    database,
    gateways,
    runners,
    start,
    waitForSplit: async (expected) => {
      await waitForShardSplit(pg, database, expected, 300, { stableMs: 3000, timeoutMs: 120_000 })
    }
  }
}

/** The runner whose log says it holds `gateway`'s session now (the last owner line wins). */
export const ownerOf = (runners: ReadonlyArray<ServerProcess>, gateway: string): ServerProcess | undefined =>
  runners.filter((r) => r.alive()).find((r) => {
    const lines = r.logs().split("\n")
    const owned = lines.findLastIndex((l) => l.includes(`gateway ${gateway} (`) && l.includes("owned here"))
    const released = lines.findLastIndex((l) => l.includes(`gateway ${gateway} released`))
    return owned >= 0 && owned > released
  })

/** The runner whose log says it runs operation `id`. */
export const executorOf = (runners: ReadonlyArray<ServerProcess>, id: string): ServerProcess | undefined =>
  runners.filter((r) => r.alive()).findLast((r) => r.logs().includes(`load ${id} (`))
