/**
 * Cluster mode end to end (issue 17): real PostgreSQL, simulator processes as gateways, `ktrdr serve` runners as OS
 * processes talking real TCP through the real @stoqey/ib. The reference for "the same bars" is a single-process
 * server on its own simulator; the simulators' own request logs and session counters are the evidence of what the
 * gateways saw (fetched once, one session per client id).
 */
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { LoadWorkflow } from "../../src/cluster/LoadWorkflow.ts"
import { startPgCluster, type PgCluster } from "../support/pgCluster.ts"
import {
  cancelOperation,
  gatewayEnv,
  getOperation,
  loadAndWait,
  killAll,
  listOperations,
  readBars,
  type ServerProcess,
  type SimProcess,
  spawnServer,
  spawnSim,
  startLoad,
  waitForOperation
} from "../support/processes.ts"
import { executorOf, ownerOf, startCluster } from "./support.ts"

let pg: PgCluster | undefined
afterAll(async () => {
  await killAll()
  await pg?.stop()
})

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const SERIES = ["AAPL", "MSFT", "IBM", "SPY", "QQQ", "TSLA", "AMZN", "NVDA", "GOOGL", "EUR.USD"] as const
const RANGE = { start_date: "2025-01-02", end_date: "2025-03-01" }

/** Every historical request a simulator saw, as "symbol end duration barSize" keys. */
const requestKeys = async (sims: ReadonlyArray<SimProcess>) => {
  const keys: Array<string> = []
  for (const s of sims) {
    for (const r of (await s.requests()).requests) {
      keys.push(`${r.resolved} ${r.endDateTime} ${r.duration} ${r.barSize}`)
    }
  }
  return keys
}

const expectOneSessionPerClientId = async (sims: ReadonlyArray<SimProcess>) => {
  for (const s of sims) {
    const st = await s.stats()
    expect(st.clientIdRefusals, `${s.label}: 326 refusals`).toBe(0)
    expect(st.maxSessionsPerClientId, `${s.label}: sessions per client id`).toBeLessThanOrEqual(1)
  }
}

const reference = async (sim: SimProcess): Promise<ServerProcess> =>
  spawnServer({ label: "single", env: gatewayEnv(sim, { attempts: 1 }) })

describe("cluster mode", () => {
  it("3 runners, 2 gateways: 10 series load over both gateways, with the bars of a single-process load", async () => {
    pg = await startPgCluster()
    const sims = await Promise.all([spawnSim({ label: "gw1" }), spawnSim({ label: "gw2" }), spawnSim({ label: "ref" })])
    const cluster = await startCluster(sims.slice(0, 2), { pg })
    const runners = await Promise.all([cluster.start("r1"), cluster.start("r2"), cluster.start("r3")])
    const single = await reference(sims[2]!)
    await cluster.waitForSplit(3)

    // Started through every runner in turn, watched through the next one.
    const ids = await Promise.all(
      SERIES.map((symbol, i) => startLoad(runners[i % 3]!.baseUrl, { symbol, timeframe: "1h", mode: "full", ...RANGE }))
    )
    const ops = await Promise.all(
      ids.map((id, i) => waitForOperation(runners[(i + 1) % 3]!.baseUrl, id, { timeoutMs: 240_000, pollMs: 1000 }))
    )
    for (const op of ops) expect(op.status, JSON.stringify(op.error_message)).toBe("completed")
    const refOps = await Promise.all(
      SERIES.map((symbol) => startLoad(single.baseUrl, { symbol, timeframe: "1h", mode: "full", ...RANGE }))
    )
    for (const id of refOps) {
      expect((await waitForOperation(single.baseUrl, id, { timeoutMs: 240_000 })).status).toBe("completed")
    }

    const used = await Promise.all(sims.slice(0, 2).map(async (s) => (await s.requests()).total))
    expect(used[0], "gateway 1 served requests").toBeGreaterThan(0)
    expect(used[1], "gateway 2 served requests").toBeGreaterThan(0)
    const served = new Set((await requestKeys(sims.slice(0, 2))).map((k) => k.split(" ")[0]))
    expect(served.size).toBe(SERIES.length)

    for (const symbol of SERIES) {
      const [a, b] = await Promise.all([
        readBars(runners[2]!.baseUrl, symbol, "1h", {}),
        readBars(single.baseUrl, symbol, "1h", {})
      ])
      expect(a.dates.length, symbol).toBeGreaterThan(0)
      expect(a.dates, symbol).toEqual(b.dates)
      expect(a.ohlcv, symbol).toEqual(b.ohlcv)
    }

    // The gateway endpoints answer on every runner from the gateways' owners.
    for (const r of runners) {
      const status = await fetch(`${r.baseUrl}/api/v1/ib/status`)
      expect(status.status, r.label).toBe(200)
      expect(((await status.json()) as { data: { ib_available: boolean } }).data.ib_available).toBe(true)
      expect((await fetch(`${r.baseUrl}/api/v1/ib/health`)).status, r.label).toBe(200)
    }

    // One load per series cluster-wide: the same series asked through two runners at once loads once.
    const twins = await Promise.all(
      [0, 1].map((i) => startLoad(runners[i]!.baseUrl, { symbol: "EUR.GBP", timeframe: "1h", mode: "full", ...RANGE }))
    )
    const both = await Promise.all(twins.map((id) => waitForOperation(runners[2]!.baseUrl, id, { timeoutMs: 240_000 })))
    for (const op of both) expect(op.status).toBe("completed")
    const planned = both.map((op) => Number(op.result_summary?.["segments_planned"])).sort((x, y) => x - y)
    expect(planned[0], "the second load found the first one's bars").toBe(0)
    expect(planned[1]).toBeGreaterThan(0)
    const eurgbp = (await requestKeys(sims.slice(0, 2))).filter((k) => k.startsWith("EUR.GBP "))
    expect(new Set(eurgbp).size).toBe(eurgbp.length)
    await expectOneSessionPerClientId(sims)
  }, 600_000)

  it(
    "SIGKILL of a gateway owner mid-backfill: the load completes, bars identical, finished segments fetched once",
    async () => {
      pg ??= await startPgCluster()
      // Slow answers keep the backfill running long enough to kill a runner in the middle of it.
      const sims = await Promise.all([
        spawnSim({ label: "k-gw1", latencyMs: 300 }),
        spawnSim({ label: "k-gw2", latencyMs: 300 }),
        spawnSim({ label: "k-ref" })
      ])
      const cluster = await startCluster(sims.slice(0, 2), { pg })
      const runners = await Promise.all([cluster.start("k1"), cluster.start("k2"), cluster.start("k3")])
      const single = await reference(sims[2]!)
      await cluster.waitForSplit(3)
      const body = {
        symbol: "AAPL",
        timeframe: "1m",
        mode: "full",
        start_date: "2025-01-02",
        end_date: "2025-03-15"
      } as const

      const id = await startLoad(runners[0]!.baseUrl, body)
      let op = await getOperation(runners[1]!.baseUrl, id)
      while (op.status === "running" || op.status === "pending") {
        if ((op.progress.items_processed ?? 0) >= 12) break
        await sleep(100)
        op = await getOperation(runners[1]!.baseUrl, id)
      }
      expect(op.status, "still running when the runner is killed").toBe("running")
      const executor = executorOf(runners, id)
      const owners = ["gw1", "gw2"].map((g) => ownerOf(runners, g))
      // Prefer a runner that owns a gateway and also executes the load: both kinds of take-over at once.
      const victim = owners.find((o) => o !== undefined && o === executor) ?? owners.find((o) => o !== undefined)
      expect(victim, "some runner owns a gateway").toBeDefined()
      const killedAt = Date.now()
      await victim!.kill("SIGKILL")
      const survivor = runners.find((r) => r !== victim)!

      const done = await waitForOperation(survivor.baseUrl, id, { timeoutMs: 300_000, pollMs: 1000 })
      expect(done.status, JSON.stringify(done.error_message)).toBe("completed")
      const ref = await waitForOperation(single.baseUrl, await startLoad(single.baseUrl, body), { timeoutMs: 300_000 })
      expect(ref.status).toBe("completed")
      const [a, b] = await Promise.all([
        readBars(survivor.baseUrl, "AAPL", "1m", {}),
        readBars(single.baseUrl, "AAPL", "1m", {})
      ])
      expect(a.dates.length).toBeGreaterThan(10_000)
      expect(a.dates).toEqual(b.dates)
      expect(a.ohlcv).toEqual(b.ohlcv)

      // Fetched once: a request repeated after the kill must have been in flight at the kill (one slot per segment
      // in flight, KTRDR_SEGMENTS_IN_FLIGHT = 4), never a segment that had finished before it.
      const seen = new Map<string, Array<number>>()
      for (const s of sims.slice(0, 2)) {
        for (const r of (await s.requests()).requests) {
          const k = `${r.endDateTime} ${r.duration} ${r.barSize}`
          seen.set(k, [...(seen.get(k) ?? []), r.receivedAtMs])
        }
      }
      const repeated = [...seen.entries()].filter(([, at]) => at.length > 1)
      expect(repeated.length, JSON.stringify(repeated)).toBeLessThanOrEqual(4)
      for (const [k, at] of repeated) {
        expect(Math.min(...at), `${k} first asked long before the kill`).toBeGreaterThan(killedAt - 5_000)
      }
      expect(seen.size, "every planned segment was asked").toBe(Number(ref.result_summary?.["segments_planned"]))
      await expectOneSessionPerClientId(sims)
      console.log(
        `killed ${victim!.label} (executor: ${executor?.label}, owners: ${owners.map((o) => o?.label).join(",")}); ` +
          `repeated ${repeated.length}; took ${Date.now() - killedAt} ms after the kill`
      )
    },
    600_000
  )

  it(
    "operations live in the database: progress and cancel through other runners; a restart of every runner keeps them",
    async () => {
      pg ??= await startPgCluster()
      const sims = await Promise.all([
        spawnSim({ label: "o-gw1", latencyMs: 300 }),
        spawnSim({ label: "o-gw2", latencyMs: 300 })
      ])
      const cluster = await startCluster(sims, { pg })
      const first = await Promise.all([cluster.start("o1"), cluster.start("o2"), cluster.start("o3")])
      await cluster.waitForSplit(3)

      const small = await loadAndWait(first[0]!.baseUrl, { symbol: "MSFT", timeframe: "1d", mode: "full", ...RANGE }, {
        timeoutMs: 120_000
      })
      expect(small.status).toBe("completed")

      const id = await startLoad(first[0]!.baseUrl, {
        symbol: "AAPL",
        timeframe: "1m",
        mode: "full",
        start_date: "2025-01-02",
        end_date: "2025-06-30"
      })
      let executor: ServerProcess | undefined
      while (executor === undefined) {
        await sleep(100)
        executor = executorOf(first, id)
      }
      const [watcher, canceller] = first.filter((r) => r !== executor)
      // Live progress through a runner that does not run the load: the SSE stream, then polling.
      const events = await fetch(`${watcher!.baseUrl}/api/v1/operations/${id}/events`, {
        signal: AbortSignal.timeout(30_000)
      })
      expect(events.status).toBe(200)
      const reader = events.body!.getReader()
      let text = ""
      while ((text.match(/event: progress/g) ?? []).length < 3) {
        const { done, value } = await reader.read()
        if (done) break
        text += new TextDecoder().decode(value)
      }
      await reader.cancel()
      expect(text).toContain("event: progress")
      let seen = await getOperation(watcher!.baseUrl, id)
      while ((seen.progress.items_processed ?? 0) < 5) {
        expect(seen.status).toBe("running")
        await sleep(200)
        seen = await getOperation(watcher!.baseUrl, id)
      }
      await cancelOperation(canceller!.baseUrl, id, "stopped from another runner")
      const cancelled = await getOperation(watcher!.baseUrl, id)
      expect(cancelled.status).toBe("cancelled")
      expect(cancelled.error_message).toBe("stopped from another runner")
      // What was fetched before the cancel is stored.
      const kept = await readBars(watcher!.baseUrl, "AAPL", "1m", {})
      expect(kept.dates.length).toBeGreaterThan(0)

      // Retry from yet another runner: a new operation of the same request, which completes.
      const retried = await fetch(`${watcher!.baseUrl}/api/v1/operations/${id}/retry`, { method: "POST" })
      expect(retried.status).toBe(200)
      const retryId = ((await retried.json()) as { data: { operation_id: string } }).data.operation_id
      expect(retryId).not.toBe(id)
      // A third load is running when every runner dies at once; new runners finish it.
      const running = await startLoad(first[1]!.baseUrl, { symbol: "IBM", timeframe: "1m", mode: "full", ...RANGE })
      let r = await getOperation(first[2]!.baseUrl, running)
      while ((r.progress.items_processed ?? 0) < 3) {
        await sleep(200)
        r = await getOperation(first[2]!.baseUrl, running)
      }
      const before = await listOperations(first[2]!.baseUrl)
      await Promise.all(first.map((p) => p.kill("SIGKILL")))
      const second = await Promise.all([cluster.start("o4"), cluster.start("o5"), cluster.start("o6")])
      const after = await listOperations(second[0]!.baseUrl)
      const byId = new Map(after.data.map((o) => [o.operation_id, o]))
      for (const o of before.data.filter((x) => x.status === "completed" || x.status === "cancelled")) {
        expect(byId.get(o.operation_id)?.status, o.operation_id).toBe(o.status)
      }
      expect(byId.get(small.operation_id)?.status).toBe("completed")
      expect(byId.get(id)?.status).toBe("cancelled")
      const cancelledOnly = await listOperations(second[0]!.baseUrl, { status: "cancelled" })
      expect(cancelledOnly.data.map((o) => o.operation_id)).toContain(id)
      expect(cancelledOnly.data.every((o) => o.status === "cancelled")).toBe(true)
      expect((await listOperations(second[0]!.baseUrl, { status: "completed", limit: 1 })).data).toHaveLength(1)
      const resumed = await waitForOperation(second[1]!.baseUrl, running, { timeoutMs: 300_000, pollMs: 1000 })
      const retriedOp = await waitForOperation(second[2]!.baseUrl, retryId, { timeoutMs: 300_000, pollMs: 1000 })
      expect(retriedOp.status, JSON.stringify(retriedOp.error_message)).toBe("completed")
      expect(resumed.status, JSON.stringify(resumed.error_message)).toBe("completed")
      expect(resumed.result_summary?.["gaps_left"]).toBe(0)
      await expectOneSessionPerClientId(sims)
    },
    600_000
  )

  it("IB's pacing holds across a failover: the new owner knows what the old one sent", async () => {
    pg ??= await startPgCluster()
    // 60 requests per 10 minutes, scaled to 20 s; the backfill needs about two windows' worth. At this scale the gate's
    // own burst spacing lets ~9 requests a second out, so a new owner that forgot the window would overfill it.
    const sim = await spawnSim({ label: "p-gw1", pacing: "strict", timeScale: 30 })
    // 16 segments in flight: the load sends as fast as the gate allows; a forgetful new owner would break the window.
    const cluster = await startCluster([sim], {
      pg,
      env: { KTRDR_IB_PACING_TIME_SCALE: "30", KTRDR_SEGMENTS_IN_FLIGHT: "16" }
    })
    const runners = await Promise.all([cluster.start("p1"), cluster.start("p2")])
    await cluster.waitForSplit(2)
    const id = await startLoad(runners[0]!.baseUrl, {
      symbol: "SPY",
      timeframe: "30s",
      mode: "full",
      start_date: "2024-03-01",
      end_date: "2024-08-15"
    })
    // Kill the owner once its window is nearly full: a new owner that forgot it would send a fresh burst of 60.
    while ((await sim.requests()).total < 55) await sleep(50)
    const owner = ownerOf(runners, "gw1")
    expect(owner).toBeDefined()
    await owner!.kill("SIGKILL")
    const survivor = runners.find((r) => r !== owner)!
    const done = await waitForOperation(survivor.baseUrl, id, { timeoutMs: 300_000, pollMs: 1000 })
    expect(done.status, JSON.stringify(done.error_message)).toBe("completed")
    expect(done.result_summary?.["gaps_left"]).toBe(0)
    const st = await sim.stats()
    expect((await sim.requests()).total).toBeGreaterThan(60)
    expect(st.pacingViolations, "pacing violations seen by the gateway").toBe(0)
    await expectOneSessionPerClientId([sim])
  }, 600_000)
  it("finished operations are forgotten by KTRDR_OPERATIONS_MAX_KEPT, their workflow messages with them", async () => {
    pg ??= await startPgCluster()
    const sim = await spawnSim({ label: "r-gw1" })
    const cluster = await startCluster([sim], { pg, env: { KTRDR_OPERATIONS_MAX_KEPT: "1" } })
    const runner = await cluster.start("r1")
    await cluster.waitForSplit(1)
    /** Rows @effect/cluster keeps for a load's workflow (its steps and their replies). */
    const workflowRows = async (operationId: string) => {
      const executionId = await Effect.runPromise(LoadWorkflow.executionId({ operationId }))
      const r = await cluster.pg.query(
        cluster.database,
        `select (select count(*) from cluster_messages where entity_id = $1) as messages,
                (select count(*) from cluster_replies where request_id in
                   (select id from cluster_messages where entity_id = $1)) as replies`,
        [executionId]
      )
      return { messages: Number(r.rows[0].messages), replies: Number(r.rows[0].replies) }
    }
    const first = await loadAndWait(runner.baseUrl, { symbol: "MSFT", timeframe: "1d", mode: "full", ...RANGE })
    expect(first.status).toBe("completed")
    const kept = await workflowRows(first.operation_id)
    expect(kept.messages).toBeGreaterThan(0) // what a finished load leaves behind until it is forgotten
    const second = await loadAndWait(runner.baseUrl, { symbol: "IBM", timeframe: "1d", mode: "full", ...RANGE })
    expect(second.status).toBe("completed")
    // reading the list applies the retention: two finished, one kept (the newest)
    const listed = await listOperations(runner.baseUrl)
    expect(listed.data.map((o) => o.operation_id)).toEqual([second.operation_id])
    await expect(getOperation(runner.baseUrl, first.operation_id)).rejects.toThrow(/404|not found/i)
    expect(await workflowRows(first.operation_id)).toEqual({ messages: 0, replies: 0 })
    expect((await workflowRows(second.operation_id)).messages).toBeGreaterThan(0)
  }, 300_000)
})
