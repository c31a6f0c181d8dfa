/**
 * The cluster's operations table forgets finished operations by the same rule as the in-process registry
 * (domain/operation.ts `expiredIds`, KTRDR_OPERATIONS_TTL / KTRDR_OPERATIONS_MAX_KEPT): checked against that rule on
 * rows a real PostgreSQL holds, never dropping pending or running ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { OperationsTable } from "../../src/cluster/operationsTable.ts"
import type { LoadRequest } from "../../src/domain/loadTypes.ts"
import { expiredIds, type Retention } from "../../src/domain/operation.ts"
import { cancelledInfo, newOperationInfo } from "../../src/domain/operationEnd.ts"
import { pgDatabase } from "../../src/layers/pgDatabase.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"

let cluster: PgCluster
beforeAll(async () => {
  cluster = await startPgCluster()
})
afterAll(() => cluster?.stop())

const REQUEST: LoadRequest = { symbol: "AAPL", timeframe: "1h", mode: "tail" }

/** Six operations: four finished a few ms apart (oldest first), one pending, one running; their rows as stored. */
const seeded = (url: string) =>
  Effect.gen(function*() {
    const table = yield* OperationsTable
    const ids = ["op-a", "op-b", "op-c", "op-d", "op-pending", "op-running"]
    for (const id of ids) yield* table.insert(id, REQUEST, {}, newOperationInfo(id, REQUEST, {}, null, Date.now()))
    for (const id of ids.slice(0, 4)) {
      yield* Effect.sleep("5 millis")
      const info = newOperationInfo(id, REQUEST, {}, null, Date.now())
      yield* table.finish(id, cancelledInfo(info, "test", null, null, null, Date.now()), {
        _tag: "cancelled",
        reason: "test"
      })
    }
    const pending = newOperationInfo("op-running", REQUEST, {}, null, Date.now())
    yield* table.setInfo("op-running", { ...pending, status: "running" }, Date.now())
    const rows = yield* Effect.promise(() =>
      cluster.query(new URL(url).pathname.slice(1), "select id, status, updated_ms from ktrdr_operations")
    )
    return rows.rows.map((r: { id: string; status: string; updated_ms: string }) => ({
      id: r.id,
      terminalAt: r.status === "pending" || r.status === "running" ? null : Number(r.updated_ms)
    }))
  })

const layer = (url: string) =>
  OperationsTable.layer.pipe(
    Layer.provide(pgDatabase(Redacted.make(url))),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

describe("ktrdr_operations retention", () => {
  const cases: ReadonlyArray<[string, (newest: number, oldest: number) => { now: number; retention: Retention }]> = [
    ["at most two kept: the two oldest finished go", (newest) => ({
      now: newest,
      retention: { ttlMs: 86_400_000, maxTerminal: 2 }
    })],
    ["a TTL only the oldest finished one is past", (_newest, oldest) => ({
      now: oldest + 60_001,
      retention: { ttlMs: 60_000, maxTerminal: 1000 }
    })],
    ["none kept: every finished one goes, pending and running stay", (newest) => ({
      now: newest,
      retention: { ttlMs: 86_400_000, maxTerminal: 0 }
    })],
    ["nothing due: nothing goes", (newest) => ({ now: newest, retention: { ttlMs: 86_400_000, maxTerminal: 1000 } })]
  ]
  for (const [what, at] of cases) {
    it.live(what, () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        yield* Effect.gen(function*() {
          const rows = yield* seeded(url)
          const ends = rows.flatMap((r) => (r.terminalAt === null ? [] : [r.terminalAt]))
          const { now, retention } = at(Math.max(...ends), Math.min(...ends))
          const want = [...expiredIds(rows, now, retention)].sort()
          const table = yield* OperationsTable
          const gone = (yield* table.prune(now, retention)).length
          const left = (yield* table.page({ activeOnly: false, limit: 100, offset: 0 })).rows.map((r) => r.id).sort()
          expect(gone).toBe(want.length)
          expect(left).toEqual(rows.map((r) => r.id).filter((id) => !want.includes(id)).sort())
          expect(left).toEqual(expect.arrayContaining(["op-pending", "op-running"]))
          if (what.startsWith("none")) expect(want).toHaveLength(4)
          if (what.startsWith("nothing")) expect(want).toHaveLength(0)
          if (what.startsWith("at most")) expect(want).toEqual(["op-a", "op-b"])
          if (what.startsWith("a TTL")) expect(want).toEqual(["op-a"])
        }).pipe(Effect.provide(layer(url)))
      }), 60_000)
  }
})
