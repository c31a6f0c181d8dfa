/**
 * Defaults that serve (issue 14 item 3): a first tail load of a never-loaded series takes its timeframe's
 * default history, says so and what range it loaded; a range in the future or before IB's first bar gets
 * a clear typed error and fetches no bar.
 */
import { describe, expect, it } from "@effect/vitest"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Layer } from "effect"
import { defaultHistory } from "../../src/domain/defaultHistory.ts"
import { resultSummaryOf } from "../../src/domain/operation.ts"
import { TIMEFRAMES, timeframeOf } from "../../src/domain/Timeframe.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { DataManager, DataManagerLive } from "../../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import { ibLayer, startSim, testSettings } from "../layers/support.ts"

const setup = Effect.gen(function*() {
  const sim = yield* startSim({ pacing: "off" })
  const dataDir = yield* Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-defaults-"))),
    (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
  )
  const layer = DataManagerLive.pipe(
    Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
    Layer.provideMerge(ibLayer(testSettings(sim, { largeBarSpacing: Duration.millis(0) }))),
    Layer.provideMerge(DataConfig.make({ dataDir }))
  )
  const dm = yield* Effect.provide(DataManager, yield* Layer.build(layer))
  return { sim, dm }
})

const DAY = 86_400_000

describe("default history of a first load", () => {
  it("grows with the bar size; weekly and monthly take everything", () => {
    const spans = TIMEFRAMES.map((t) => defaultHistory(t).ms).map((ms) => (ms === "all" ? Infinity : ms))
    for (let k = 1; k < spans.length; k++) expect(spans[k]!).toBeGreaterThanOrEqual(spans[k - 1]!)
    expect(defaultHistory(timeframeOf("1d"))).toEqual({ ms: 10 * 365 * DAY, label: "10 years" })
    expect(defaultHistory(timeframeOf("1h")).label).toBe("2 years")
    expect(defaultHistory(timeframeOf("1w")).ms).toBe("all")
  })

  it.live(
    "a first tail load of 1d loads years (KTRDR: 20 bars), says so, and states the range",
    () =>
      Effect.gen(function*() {
        const { dm } = yield* setup
        const r = yield* dm.load({ symbol: "AAPL", timeframe: "1d", mode: "tail" })
        expect(r.defaultHistory).toBe("10 years")
        expect(r.totalBars).toBeGreaterThan(2400)
        expect(r.range!.to - r.range!.from).toBeGreaterThan(9.9 * 365 * DAY)
        const s = resultSummaryOf(r, false)
        expect(s).toMatchObject({ default_history: "10 years" })
        expect(typeof s["range_start"]).toBe("string")
        // The next tail load continues from the stored bars: no default any more.
        const again = yield* dm.load({ symbol: "AAPL", timeframe: "1d", mode: "tail" })
        expect(again.defaultHistory).toBeNull()
        expect(again.newBars).toBe(0)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "a range in the future or before IB's first bar: a clear InvalidInput, no bar requested",
    () =>
      Effect.gen(function*() {
        const { sim, dm } = yield* setup
        const future = yield* dm.load({ symbol: "AAPL", timeframe: "1h", mode: "full", start: Date.now() + 5 * DAY })
          .pipe(Effect.flip)
        expect(future).toMatchObject({ _tag: "InvalidInput", field: "start" })
        expect(future.message).toMatch(/is in the future: there is nothing to load yet/)
        // TSLA listed 2010-06-29: a 2005 range holds nothing.
        const before = yield* dm.load({
          symbol: "TSLA",
          timeframe: "1d",
          mode: "full",
          start: Date.UTC(2005, 0, 1),
          end: Date.UTC(2006, 0, 1)
        }).pipe(Effect.flip)
        expect(before).toMatchObject({ _tag: "InvalidInput", field: "end" })
        expect(before.message).toMatch(/^TSLA 1d history starts at 2010-06-29.*holds no data$/)
        expect(sim.stats().requests.historical).toBe(0)
      }).pipe(Effect.scoped),
    60_000
  )
})
