/**
 * `waitForShardSplit` against a real PostgreSQL: connections named like runners hold session advisory locks, as
 * the cluster's shard locks are; the wait resolves only on a complete split that stays put.
 */
import pg from "pg"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startPgCluster, type PgCluster } from "./pgCluster.ts"
import { shardSplit, waitForShardSplit } from "./shardSplit.ts"

let cluster: PgCluster
let db: string
const clients: Array<pg.Client> = []

beforeAll(async () => {
  cluster = await startPgCluster()
  await cluster.createDatabase("shards")
  db = "shards"
})
afterAll(async () => {
  for (const c of clients) await c.end().catch(() => undefined)
  await cluster?.stop()
})

/** A connection named `ktrdr-runner-<name>` holding advisory locks on `keys`. */
const runner = async (name: string, keys: ReadonlyArray<number>) => {
  const c = new pg.Client({ connectionString: cluster.url(db), application_name: `ktrdr-runner-${name}` })
  await c.connect()
  clients.push(c)
  for (const k of keys) await c.query("SELECT pg_advisory_lock($1)", [k])
  return c
}
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)

describe("waitForShardSplit", () => {
  it("resolves with a complete, stable split; refuses an incomplete one and one missing a runner", async () => {
    const a = await runner("127.0.0.1:1", range(1, 6))
    const b = await runner("127.0.0.1:2", range(7, 3))
    // Another application's advisory locks do not count.
    const other = new pg.Client({ connectionString: cluster.url(db), application_name: "something-else" })
    await other.connect()
    clients.push(other)
    await other.query("SELECT pg_advisory_lock(999)")

    expect(await shardSplit(cluster, db)).toEqual({ "ktrdr-runner-127.0.0.1:1": 6, "ktrdr-runner-127.0.0.1:2": 3 })
    const fast = { stableMs: 300, timeoutMs: 1_500, pollMs: 50 }
    await expect(waitForShardSplit(cluster, db, 2, 10, fast)).rejects.toThrow(/no stable split of 10 shards/)
    await expect(waitForShardSplit(cluster, db, 3, 9, fast)).rejects.toThrow(/no stable split/)
    await expect(waitForShardSplit(cluster, db, ["ktrdr-runner-127.0.0.1:1", "ktrdr-runner-127.0.0.1:3"], 9, fast))
      .rejects.toThrow(/no stable split/)
    expect(await waitForShardSplit(cluster, db, 2, 9, fast)).toEqual({
      "ktrdr-runner-127.0.0.1:1": 6,
      "ktrdr-runner-127.0.0.1:2": 3
    })
    // A split that keeps moving (shard 6 hopping between the runners every 100 ms) never counts as stable…
    let moving = true
    const mover = (async () => {
      while (moving) {
        await a.query("SELECT pg_advisory_unlock(6)")
        await b.query("SELECT pg_advisory_lock(6)")
        await new Promise((r) => setTimeout(r, 100))
        await b.query("SELECT pg_advisory_unlock(6)")
        await a.query("SELECT pg_advisory_lock(6)")
        await new Promise((r) => setTimeout(r, 100))
      }
    })()
    const whileMoving = waitForShardSplit(cluster, db, 2, 9, { stableMs: 400, timeoutMs: 2_000, pollMs: 20 })
    await expect(whileMoving).rejects.toThrow(/no stable split/)
    moving = false
    await mover
    // …and once it stops, the same wait resolves.
    expect(await waitForShardSplit(cluster, db, 2, 9, { stableMs: 400, timeoutMs: 5_000, pollMs: 20 })).toEqual({
      "ktrdr-runner-127.0.0.1:1": 6,
      "ktrdr-runner-127.0.0.1:2": 3
    })
  })
})
