/**
 * Waits until the cluster's runners have split the shards between them (effect-cluster-workflow.md §8): the
 * granted advisory locks per runner connection — runners set PostgreSQL `application_name` to
 * `ktrdr-runner-<host>:<port>` — sum to `shardsPerGroup`, every expected runner holds some, and the split has
 * not changed for `stableMs` (without that rule one run was measured mid-rebalance at 94/150/56).
 */
import type { PgCluster } from "./pgCluster.ts"

export const RUNNER_APP_PREFIX = "ktrdr-runner-"

export type ShardSplit = Readonly<Record<string, number>>

/** Granted advisory locks per runner application name on `database`, now. */
export const shardSplit = async (pg: Pick<PgCluster, "query">, database: string): Promise<ShardSplit> => {
  const r = await pg.query(
    database,
    `SELECT a.application_name AS app, count(*)::int AS n
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND a.datname = $1 AND a.application_name LIKE $2
      GROUP BY 1 ORDER BY 1`,
    [database, `${RUNNER_APP_PREFIX}%`]
  )
  return Object.fromEntries(r.rows.map((row: { app: string; n: number }) => [row.app, row.n]))
}

const sameSplit = (a: ShardSplit, b: ShardSplit) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)

/**
 * Resolves with the stable split. `expectedRunners`: how many runners, or their exact application names
 * (`ktrdr-runner-127.0.0.1:34567`).
 */
export const waitForShardSplit = async (
  pg: Pick<PgCluster, "query">,
  database: string,
  expectedRunners: number | ReadonlyArray<string>,
  shardsPerGroup = 300,
  o: { readonly stableMs?: number; readonly timeoutMs?: number; readonly pollMs?: number } = {}
): Promise<ShardSplit> => {
  const stableMs = o.stableMs ?? 5_000
  const timeoutMs = o.timeoutMs ?? 120_000
  const until = Date.now() + timeoutMs
  const complete = (s: ShardSplit) => {
    const names = Object.keys(s)
    const sum = Object.values(s).reduce((x, y) => x + y, 0)
    const runnersOk = typeof expectedRunners === "number"
      ? names.length === expectedRunners
      : names.length === expectedRunners.length && expectedRunners.every((n) => (s[n] ?? 0) > 0)
    return sum === shardsPerGroup && runnersOk && Object.values(s).every((n) => n > 0)
  }
  let since: { split: ShardSplit; at: number } | undefined
  let last: ShardSplit
  for (;;) {
    last = await shardSplit(pg, database)
    const now = Date.now()
    if (!complete(last)) since = undefined
    else if (!since || !sameSplit(since.split, last)) since = { split: last, at: now }
    else if (now - since.at >= stableMs) return last
    if (now > until) {
      throw new Error(
        `no stable split of ${shardsPerGroup} shards over ${
          JSON.stringify(expectedRunners)
        } runners after ${timeoutMs} ms; last ${JSON.stringify(last)}`
      )
    }
    await new Promise<void>((r) => setTimeout(r, o.pollMs ?? 250))
  }
}
