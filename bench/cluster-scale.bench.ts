/**
 * Cluster mode (issue 17), real processes: a private PostgreSQL, simulator processes as gateways (strict pacing,
 * time-scaled), two `ktrdr serve` runners in cluster mode.
 * - gateways: one pacing-bound backfill of 30-second bars (600 segments) through 1, 2 and 4 gateways. The figure is
 *   the steady request rate the gateways saw after IB's first 10-minute window (whose 60 free requests per gateway
 *   would flatter every N), from the simulators' own request logs; goal: N gateways ≥ 0.9 × N × one gateway's rate.
 * - failover: a gateway's owner SIGKILLed during a load; the figure is the time from the kill to the first request
 *   that gateway receives from its new session; goal ≤ 10 s (the baseline is the goal itself).
 */
import { startPgCluster, type PgCluster } from "../test/support/pgCluster.ts"
import {
  getOperation,
  killAll,
  type ServerProcess,
  type SimProcess,
  spawnSim,
  startLoad,
  waitForOperation
} from "../test/support/processes.ts"
import { ownerOf, startCluster } from "../test/cluster/support.ts"
import { type Bench, fmt, median } from "./harness.ts"

const SCALE = Number(process.env["BENCH_CLUSTER_SCALE"] ?? 60)
/** IB's long window (10 min) as the simulator and our gate see it: scaled, plus the gate's 0.5 s margin. */
const WINDOW_MS = 600_000 / SCALE + 500
const BACKFILL = {
  symbol: "SPY",
  timeframe: "30s",
  mode: "full",
  start_date: "2022-06-01",
  end_date: "2024-10-15"
} as const
/** Which gateway counts to measure (`BENCH_CLUSTER_NS=1,4` to skip 2). */
const GATEWAY_COUNTS = (process.env["BENCH_CLUSTER_NS"] ?? "1,2,4").split(",").map(Number)
const FAILOVER_ROUNDS = Number(process.env["BENCH_FAILOVER_ROUNDS"] ?? 3)

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

interface Throughput {
  readonly gateways: number
  readonly steadyRate: number
  readonly requests: number
  readonly seconds: number
  readonly violations: number
  /** Requests per gateway. */
  readonly spread: ReadonlyArray<number>
}

const throughput = async (pg: PgCluster, gateways: number): Promise<Throughput> => {
  const sims: Array<SimProcess> = []
  for (let i = 0; i < gateways; i++) {
    sims.push(await spawnSim({ label: `gw${i + 1}`, pacing: "strict", timeScale: SCALE }))
  }
  const cluster = await startCluster(sims, {
    pg,
    env: { KTRDR_IB_PACING_TIME_SCALE: String(SCALE), KTRDR_SEGMENTS_IN_FLIGHT: "32", KTRDR_LOG_LEVEL: "Warning" }
  })
  const runners = [await cluster.start("r1"), await cluster.start("r2")]
  await cluster.waitForSplit(2)
  const started = Date.now()
  const id = await startLoad(runners[0]!.baseUrl, BACKFILL)
  const op = await waitForOperation(runners[1]!.baseUrl, id, { timeoutMs: 900_000, pollMs: 1000 })
  if (op.status !== "completed") throw new Error(`backfill ${op.status}: ${op.error_message}`)
  const times: Array<number> = []
  let violations = 0
  const spread: Array<number> = []
  for (const s of sims) {
    const log = (await s.requests()).requests
    for (const r of log) times.push(r.receivedAtMs)
    spread.push(log.length)
    violations += (await s.stats()).pacingViolations
  }
  times.sort((a, b) => a - b)
  const from = times[0]! + WINDOW_MS
  const steady = times.filter((t) => t >= from)
  const rate = steady.length / ((times.at(-1)! - from) / 1000)
  await killAll()
  return {
    gateways,
    steadyRate: rate,
    requests: times.length,
    seconds: (Date.now() - started) / 1000,
    violations,
    spread
  }
}

let measured: Promise<ReadonlyArray<Throughput>> | undefined
const measureAll = () => (measured ??= (async () => {
  const pg = await startPgCluster()
  try {
    const out: Array<Throughput> = []
    for (const n of GATEWAY_COUNTS) out.push(await throughput(pg, n))
    return out
  } finally {
    await killAll()
    await pg.stop()
  }
})())

const scaleBench = (n: 2 | 4): Bench => ({
  name: `cluster-gateways-${n}: pacing-bound backfill through ${n} gateways vs 1`,
  run: async () => {
    const all = await measureAll()
    const one = all.find((t) => t.gateways === 1)
    const many = all.find((t) => t.gateways === n)
    if (one === undefined || many === undefined) throw new Error(`BENCH_CLUSTER_NS must include 1 and ${n}`)
    const ratio = many.steadyRate / one.steadyRate
    return {
      name: `cluster-gateways-${n}`,
      figure: { label: `${n} gateways, steady request rate`, value: many.steadyRate, unit: "req/s" },
      baseline: { label: "1 gateway, steady request rate", value: one.steadyRate, unit: "req/s" },
      ratio,
      goal: `≥ ${fmt(0.9 * n)}`,
      pass: ratio >= 0.9 * n,
      notes: all.map((t) =>
        `${t.gateways} gateway(s): ${t.requests} requests, ${fmt(t.steadyRate)} req/s after the first window, ` +
        `load ${fmt(t.seconds)} s, per gateway ${t.spread.join("/")}, pacing violations ${t.violations}`
      )
    }
  }
})

/** One failover: the time from SIGKILL of the gateway's owner to the gateway's first request on a new session. */
const failoverOnce = async (pg: PgCluster): Promise<number> => {
  const sim = await spawnSim({ label: "gw", latencyMs: 200 })
  const cluster = await startCluster([sim], { pg, env: { KTRDR_LOG_LEVEL: "Info" } })
  const runners: Array<ServerProcess> = [
    await cluster.start("f1"),
    await cluster.start("f2"),
    await cluster.start("f3")
  ]
  await cluster.waitForSplit(3)
  const id = await startLoad(runners[0]!.baseUrl, { symbol: "AAPL", timeframe: "1m", mode: "full", ...RANGE })
  for (;;) {
    const op = await getOperation(runners[1]!.baseUrl, id)
    if ((op.progress.items_processed ?? 0) >= 5) break
    if (op.status !== "running" && op.status !== "pending") throw new Error(`load ended early: ${op.status}`)
    await sleep(100)
  }
  const owner = ownerOf(runners, "gw1")
  if (owner === undefined) throw new Error("no runner says it owns gw1")
  const before = new Set((await sim.requests()).requests.map((r) => r.sessionId))
  const killedAt = Date.now()
  await owner.kill("SIGKILL")
  for (;;) {
    const next = (await sim.requests()).requests.find((r) => !before.has(r.sessionId))
    if (next !== undefined) {
      const ms = next.receivedAtMs - killedAt
      await killAll()
      return ms
    }
    if (Date.now() - killedAt > 120_000) throw new Error("no request from a new session within 120 s")
    await sleep(50)
  }
}

const RANGE = { start_date: "2025-01-02", end_date: "2025-04-01" }

const failoverBench: Bench = {
  name: "cluster-failover: gateway owner SIGKILLed → the gateway's next request from its new owner",
  run: async () => {
    const pg = await startPgCluster()
    const runs: Array<number> = []
    try {
      for (let i = 0; i < FAILOVER_ROUNDS; i++) runs.push(await failoverOnce(pg))
    } finally {
      await killAll()
      await pg.stop()
    }
    const worst = Math.max(...runs)
    return {
      name: "cluster-failover",
      figure: { label: "worst kill → next request", value: worst / 1000, unit: "s" },
      baseline: { label: "goal", value: 10, unit: "s" },
      ratio: worst / 10_000,
      goal: "≤ 1",
      pass: worst <= 10_000,
      notes: [`runs: ${runs.map((r) => fmt(r / 1000)).join(", ")} s (median ${fmt(median(runs) / 1000)} s)`]
    }
  }
}

export default [scaleBench(2), scaleBench(4), failoverBench]
