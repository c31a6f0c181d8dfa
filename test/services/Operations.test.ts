import { describe, expect, it } from "@effect/vitest"
import { barsOf } from "../../src/domain/barSeries.ts"
import { Duration, Effect, Layer, Schedule } from "effect"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { DataManagerLive } from "../../src/services/DataManager.ts"
import { Operations, operationsWith } from "../../src/services/Operations.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import { eventually, ibLayer, startSim, testSettings } from "../layers/support.ts"
import { tempDir } from "../http/support.ts"

const setup = (retention: { ttlMs: number; maxTerminal: number }, latencyMs = 0) =>
  Effect.gen(function*() {
    const sim = yield* startSim({ pacing: "off", latencyMs })
    const dataDir = yield* tempDir("ktrdr-ops-")
    const layer = operationsWith(retention).pipe(
      Layer.provideMerge(DataManagerLive),
      Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
      Layer.provideMerge(ibLayer(testSettings(sim, { largeBarSpacing: Duration.millis(0) }))),
      Layer.provideMerge(DataConfig.make({ dataDir }))
    )
    const ctx = yield* Layer.build(layer)
    return { sim, dataDir, ops: yield* Effect.provide(Operations, ctx) }
  })

describe("Operations", () => {
  it.live(
    "terminal operations are forgotten after the TTL and beyond the size cap; running ones stay",
    () =>
      Effect.gen(function*() {
        // A TTL long enough that a loaded machine cannot expire the finished loads before the first listing.
        const { ops } = yield* setup({ ttlMs: 4_000, maxTerminal: 2 }, 100)
        const done: Array<string> = []
        for (const symbol of ["AAPL", "MSFT", "IBM"]) {
          const info = yield* ops.startLoad({ symbol, timeframe: "1d", mode: "tail" })
          yield* ops.outcome(info.operation_id)
          done.push(info.operation_id)
        }
        const running = yield* ops.startLoad({
          symbol: "AAPL",
          timeframe: "1m",
          mode: "full",
          start: Date.UTC(2025, 0, 2),
          end: Date.UTC(2025, 1, 1)
        })
        const listed = yield* ops.list({})
        // The cap keeps the two newest finished operations (the oldest is gone) and the running one.
        expect(listed.items.map((o) => o.operation_id).sort()).toEqual([done[1], done[2], running.operation_id].sort())
        expect(yield* ops.get(done[0]!).pipe(Effect.flip)).toMatchObject({ _tag: "OperationNotFound" })
        // Past the TTL the finished ones go; the long load remains (running, or finished after them, so it
        // expires after them). Polled, not slept: on a loaded machine the TTL sweep runs when it can.
        const later = yield* ops.list({}).pipe(
          Effect.filterOrFail((l) => !l.items.some((o) => o.operation_id === done[1] || o.operation_id === done[2])),
          Effect.retry(Schedule.spaced("50 millis")),
          Effect.timeout("20 seconds")
        )
        expect(later.items.map((o) => o.operation_id)).toEqual([running.operation_id])
        yield* ops.cancel(running.operation_id).pipe(Effect.ignore)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "closing the registry (server shutdown) cancels running loads and keeps their checkpoints",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim({ pacing: "off", latencyMs: 150 })
        const dataDir = yield* tempDir("ktrdr-ops-")
        const layer = operationsWith({ ttlMs: 60_000, maxTerminal: 10 }).pipe(
          Layer.provideMerge(DataManagerLive),
          Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
          Layer.provideMerge(ibLayer(testSettings(sim, { largeBarSpacing: Duration.millis(0) }))),
          Layer.provideMerge(DataConfig.make({ dataDir, checkpointEverySegments: 1 }))
        )
        const result = yield* Effect.scoped(
          Effect.gen(function*() {
            const ctx = yield* Layer.build(layer)
            const ops = yield* Effect.provide(Operations, ctx)
            const store = yield* Effect.provide(BarStore, ctx)
            const info = yield* ops.startLoad({
              symbol: "AAPL",
              timeframe: "1m",
              mode: "full",
              start: Date.UTC(2025, 0, 2),
              end: Date.UTC(2025, 3, 1)
            })
            for (let i = 0; i < 200; i++) {
              if ((yield* ops.get(info.operation_id)).progress.items_processed >= 3) break
              yield* Effect.sleep("50 millis")
            }
            return { ops, store, id: info.operation_id }
          })
        )
        // The scope is closed: the load was interrupted through the registry and ended cancelled.
        const final = yield* result.ops.get(result.id)
        expect(final.status).toBe("cancelled")
        expect(final.error_message).toBe("Server shutting down")
        expect(final.result_summary?.["fetched_bars"]).toBeGreaterThan(0)
        const stored = yield* result.store.read("AAPL", "1m")
        expect(barsOf(stored).length).toBe(final.result_summary?.["fetched_bars"])
        yield* eventually("gateway socket closed", () => sim.stats().openConnections, (n) => n === 0)
      }).pipe(Effect.scoped),
    60_000
  )
})
