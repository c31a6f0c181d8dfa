/**
 * The multi-process harness on itself: two simulator processes, a single-process `ktrdr serve` (no cluster
 * settings) on one of them, a load through HTTP; the simulator's request log must show exactly the requests the
 * load reports, and its client-id evidence must be able to fail (a second server with the same client id is
 * refused). Everything is killed at the end and no process may be left.
 */
import { afterAll, describe, expect, it } from "vitest"
import {
  gatewayEnv,
  ibRequestsOf,
  killAll,
  liveProcesses,
  listOperations,
  loadAndWait,
  readBars,
  spawnServer,
  spawnSim,
  survivingPids
} from "./processes.ts"

afterAll(killAll)

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

const until = async <A>(what: string, get: () => Promise<A>, ok: (a: A) => boolean, ms = 30_000): Promise<A> => {
  const end = Date.now() + ms
  for (;;) {
    const a = await get()
    if (ok(a)) return a
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(a)}`)
    await sleep(100)
  }
}

describe("multi-process harness", () => {
  it("a load shows request by request on its simulator; a twin client id is refused; nothing survives", async () => {
    const [simA, simB] = await Promise.all([spawnSim({ pacing: "strict" }), spawnSim({ pacing: "strict" })])
    expect(simA.port).not.toBe(simB.port)
    // One id only: a refused id must stay refused, not move on to id 2.
    const env = gatewayEnv(simA, { clientId: 1, attempts: 1 })
    const server = await spawnServer({ label: "serve-a", env })

    const op = await loadAndWait(server.baseUrl, {
      symbol: "AAPL",
      timeframe: "1h",
      mode: "full",
      start_date: "2025-01-02",
      end_date: "2025-03-01"
    })
    expect(op.status, server.logs()).toBe("completed")
    const ib = ibRequestsOf(op)
    expect(ib).toBeGreaterThan(1)

    const log = await simA.requests()
    expect(log.total).toBe(ib)
    expect(log.requests).toHaveLength(ib)
    for (const r of log.requests) {
      expect(r).toMatchObject({ clientId: 1, resolved: "AAPL", barSize: "1 hour", whatToShow: "TRADES", useRTH: true })
    }
    expect(new Set(log.requests.map((r) => r.sessionId)).size).toBe(1)
    expect(await simB.requests()).toEqual({ total: 0, requests: [] })
    expect(await simB.stats()).toMatchObject({ totalConnections: 0, requests: { historical: 0 } })
    expect(await simA.stats()).toMatchObject({
      requests: { historical: ib },
      clientIds: [1],
      clientIdRefusals: 0,
      maxSessionsPerClientId: 1
    })

    const bars = await readBars(server.baseUrl, "AAPL", "1h", { start: "2025-01-02", end: "2025-03-01" })
    expect(bars.dates.length).toBe(op.result_summary?.["total_bars"])
    expect((await listOperations(server.baseUrl)).data.map((o) => o.operation_id)).toContain(op.operation_id)

    // Same gateway, same client id: the simulator must refuse it (the evidence can fail).
    const twin = await spawnServer({ label: "serve-twin", env })
    const refused = await until("a 326 refusal", () => simA.stats(), (s) => s.clientIdRefusals >= 1)
    expect(refused).toMatchObject({ clientIds: [1], maxSessionsPerClientId: 1 })

    // SIGTERM reaches the server itself (not a wrapper): it exits and its gateway session closes. The twin goes
    // first, or it would take id 1 over once A is gone.
    await twin.kill("SIGKILL")
    await until("only A's session open", () => simA.stats(), (s) => s.openConnections === 1)
    const exit = await server.kill("SIGTERM")
    expect(exit.signal === "SIGTERM" || [0, 130, 143].includes(exit.code ?? -1), server.logs()).toBe(true)
    await until("A's session closed", () => simA.stats(), (s) => s.openConnections === 0 && s.clientIds.length === 0)

    const pids = [simA.pid, simB.pid, server.pid, twin.pid]
    await killAll()
    expect(liveProcesses()).toEqual([])
    expect(survivingPids().filter((p) => pids.includes(p))).toEqual([])
  })
})
