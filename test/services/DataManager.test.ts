import { describe, expect, it } from "@effect/vitest"
import { barsOf } from "../../src/domain/barSeries.ts"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Chunk, Duration, Effect, Fiber, Layer, Stream } from "effect"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig, type DataSettings } from "../../src/layers/DataConfig.ts"
import { DataManager, DataManagerLive } from "../../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import { eventually, ibLayer, startSim, testSettings } from "../layers/support.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-dm-"))),
  (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
)

const ET = (iso: string) => Date.parse(`${iso}-05:00`)

/** The whole data graph on a simulator and a temp data dir. */
const setup = (simOptions: SimulatorOptions = {}, data: Partial<DataSettings> = {}, sim0?: GatewaySimulator) =>
  Effect.gen(function*() {
    const sim = sim0 ?? (yield* startSim({ pacing: "off", ...simOptions }))
    const dataDir = yield* tempDir
    const config = DataConfig.make({ dataDir, checkpointEverySegments: 2, ...data })
    const ib = ibLayer(testSettings(sim, { largeBarSpacing: Duration.millis(0) }))
    const layer = DataManagerLive.pipe(
      Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
      Layer.provideMerge(ib),
      Layer.provideMerge(config)
    )
    const ctx = yield* Layer.build(layer)
    const dm = yield* Effect.provide(DataManager, ctx)
    const store = yield* Effect.provide(BarStore, ctx)
    return { sim, dataDir, dm, store }
  })

const historical = (sim: GatewaySimulator) => sim.stats().requests.historical

describe("DataManager", () => {
  it.live("full mode fetches every missing session once; a re-run fetches nothing", () =>
    Effect.gen(function*() {
      const { sim, dm, store } = yield* setup()
      const r = yield* dm.load({
        symbol: "AAPL",
        timeframe: "1h",
        mode: "full",
        start: ET("2025-01-02T00:00:00"),
        end: ET("2025-01-11T00:00:00")
      })
      // 2025-01-09 was the national day of mourning (Carter): six sessions of 7 RTH hour bars.
      expect(r.totalBars).toBe(6 * 7)
      expect(r.gapsLeft).toBe(0)
      expect(r.newBars).toBe(42)
      expect(r.segmentsFailed).toBe(0)
      // Every fetched bar went through KTRDR's quality checks; the simulator's bars are consistent.
      expect(r.quality).toMatchObject({ checkedBars: r.barsFetched, errors: 0 })
      const stored = yield* store.read("AAPL", "1h")
      expect(barsOf(stored).map((b) => new Date(b.time).toISOString()).slice(0, 2)).toEqual([
        "2025-01-02T14:30:00.000Z",
        "2025-01-02T15:00:00.000Z"
      ])
      const before = historical(sim)
      const again = yield* dm.load({
        symbol: "AAPL",
        timeframe: "1h",
        mode: "full",
        start: ET("2025-01-02T00:00:00"),
        end: ET("2025-01-11T00:00:00")
      })
      expect(again.segmentsPlanned).toBe(0)
      expect(historical(sim) - before).toBe(0)
      expect(again.totalBars).toBe(42)
    }).pipe(Effect.scoped))

  it.live("local mode reads KTRDR's own files without asking the gateway", () =>
    Effect.gen(function*() {
      const { dm, dataDir, sim } = yield* setup()
      const { copyFile } = yield* Effect.promise(() => import("node:fs/promises"))
      yield* Effect.promise(() =>
        copyFile(new URL("../fixtures/ktrdr/EURUSD_1h.csv", import.meta.url), join(dataDir, "EURUSD_1h.csv"))
      )
      const all = yield* dm.load({ symbol: "EUR.USD", timeframe: "1h", mode: "local" })
      expect(all.seriesKey).toBe("EURUSD")
      expect(all.totalBars).toBeGreaterThan(0)
      const slice = yield* dm.load({
        symbol: "eur/usd",
        timeframe: "1h",
        mode: "local",
        start: Date.parse("2025-01-02T00:00:00Z"),
        end: Date.parse("2025-01-02T05:00:00Z")
      })
      // Inclusive bounds: 00:00 … 05:00 is six hourly bars.
      expect(slice.totalBars).toBe(6)
      expect(slice.firstBar).toBe(Date.parse("2025-01-02T00:00:00Z"))
      expect(sim.stats().requests.historical + sim.stats().requests.contractDetails).toBe(0)
    }).pipe(Effect.scoped))

  it.live("tail after Friday's last bar fetches Monday's bars on Monday", () =>
    Effect.gen(function*() {
      const { sim, dm, store } = yield* setup()
      yield* dm.load({
        symbol: "MSFT",
        timeframe: "1h",
        mode: "full",
        start: ET("2025-01-02T00:00:00"),
        end: ET("2025-01-04T00:00:00")
      })
      const friday = barsOf(yield* store.read("MSFT", "1h")).at(-1)!
      expect(new Date(friday.time).toISOString()).toBe("2025-01-03T20:00:00.000Z")
      const before = historical(sim)
      const r = yield* dm.load({ symbol: "MSFT", timeframe: "1h", mode: "tail", end: ET("2025-01-06T12:00:00") })
      expect(historical(sim) - before).toBe(r.segmentsPlanned)
      expect(r.segmentsPlanned).toBe(1)
      const monday = barsOf(yield* store.read("MSFT", "1h")).filter((b) => b.time > friday.time)
      // Monday 09:30, 10:00 and 11:00 ET bars have ended by 12:00; nothing on the weekend.
      expect(monday.map((b) => new Date(b.time).toISOString())).toEqual([
        "2025-01-06T14:30:00.000Z",
        "2025-01-06T15:00:00.000Z",
        "2025-01-06T16:00:00.000Z"
      ])
    }).pipe(Effect.scoped))

  it.live("backfill fetches only what lies before the first stored bar", () =>
    Effect.gen(function*() {
      const { sim, dm } = yield* setup()
      // Daily bars are stamped 00:00Z of their trading date, so day bounds are UTC midnights.
      yield* dm.load({
        symbol: "IBM",
        timeframe: "1d",
        mode: "full",
        start: Date.parse("2024-06-03T00:00:00Z"),
        end: Date.parse("2024-07-01T00:00:00Z")
      })
      const before = historical(sim)
      const r = yield* dm.load({
        symbol: "IBM",
        timeframe: "1d",
        mode: "backfill",
        start: Date.parse("2024-05-01T00:00:00Z")
      })
      expect(historical(sim) - before).toBe(r.segmentsPlanned)
      expect(new Date(r.firstBar!).toISOString().slice(0, 10)).toBe("2024-05-01")
      expect(r.range!.to).toBeLessThanOrEqual(Date.parse("2024-06-03T00:00:00Z"))
      // May 2024 had 22 sessions (Memorial Day closed), June 2024 19 (Juneteenth closed).
      expect(r.totalBars).toBe(22 + 19)
      expect(r.gapsLeft).toBe(0)
    }).pipe(Effect.scoped))

  it.live("a 30-day 1h range fetches all 30 days", () =>
    Effect.gen(function*() {
      const { dm } = yield* setup()
      const r = yield* dm.load({
        symbol: "SPY",
        timeframe: "1h",
        mode: "full",
        start: ET("2024-04-01T00:00:00"),
        end: ET("2024-05-01T00:00:00")
      })
      expect(r.totalBars).toBe(22 * 7)
      expect(r.gapsLeft).toBe(0)
      expect(r.segmentsPlanned).toBe(1)
    }).pipe(Effect.scoped))

  it.live("two loads of one series run one after the other; the second finds nothing left to fetch", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ pacing: "off", latencyMs: 50 })
      const { dm } = yield* setup({}, {}, sim)
      const req = {
        symbol: "NVDA",
        timeframe: "1h",
        mode: "full" as const,
        start: ET("2024-03-04T00:00:00"),
        end: ET("2024-03-09T00:00:00")
      }
      const [a, b] = yield* Effect.all([dm.load(req), dm.load(req)], { concurrency: 2 })
      expect([a.segmentsPlanned, b.segmentsPlanned].sort()).toEqual([0, 1])
      expect(sim.stats().requests.historical).toBe(1)
      expect(a.totalBars).toBe(35)
      expect(b.totalBars).toBe(35)
    }).pipe(Effect.scoped))

  it.live("progress is monotonic with KTRDR's phases and ends with done", () =>
    Effect.gen(function*() {
      const { dm } = yield* setup()
      const updates = Chunk.toReadonlyArray(
        yield* Stream.runCollect(
          dm.loadWithProgress({
            symbol: "EUR.USD",
            timeframe: "1h",
            mode: "full",
            start: Date.parse("2025-01-06T00:00:00Z"),
            end: Date.parse("2025-01-08T00:00:00Z")
          })
        )
      )
      const pct = updates.map((u) => u.percentage)
      expect(pct).toEqual([...pct].sort((a, b) => a - b))
      expect(updates.at(-1)!.phase).toBe("done")
      expect(new Set(updates.map((u) => u.phase))).toEqual(
        new Set([
          "validating_symbol",
          "checking_head_timestamp",
          "loading_local_data",
          "analyzing_gaps",
          "planning_segments",
          "fetching_segments",
          "saving",
          "done"
        ])
      )
    }).pipe(Effect.scoped))

  it.live("bad input is a typed error and touches nothing on disk", () =>
    Effect.gen(function*() {
      const { dm, dataDir, sim } = yield* setup()
      for (const symbol of ["../x", "a/b", "", "x".repeat(40), "A\u0001"]) {
        const e = yield* dm.load({ symbol, timeframe: "1h", mode: "full" }).pipe(Effect.flip)
        expect(e._tag).toBe("InvalidInput")
      }
      expect((yield* dm.load({ symbol: "AAPL", timeframe: "7m", mode: "full" }).pipe(Effect.flip))._tag).toBe(
        "InvalidInput"
      )
      const unknown = yield* dm.load({ symbol: "APPL", timeframe: "1h", mode: "full" }).pipe(Effect.flip)
      expect(unknown).toMatchObject({ _tag: "UnknownSymbol", code: 200 })
      expect((unknown as { suggestions: ReadonlyArray<string> }).suggestions).toContain("AAPL")
      expect((yield* dm.load({ symbol: "AAPL", timeframe: "1h", mode: "local" }).pipe(Effect.flip))._tag).toBe(
        "NotFound"
      )
      const { readdir } = yield* Effect.promise(() => import("node:fs/promises"))
      const files = yield* Effect.promise(() => readdir(dataDir))
      expect(files.filter((f) => f.endsWith(".csv"))).toEqual([])
      expect(sim.stats().requests.historical).toBe(0)
    }).pipe(Effect.scoped))

  it.live("a corrupt file fails the load with its line and is never overwritten", () =>
    Effect.gen(function*() {
      const { dm, dataDir, sim } = yield* setup()
      const file = join(dataDir, "AAPL_1h.csv")
      const text = "timestamp,open,high,low,close,volume\n2025-01-02T14:30:00Z,1,2,0.5,1.5,10\n" +
        "2025-01-02T15:30:00Z,abc,2,0.5,1.5,10\n"
      yield* Effect.promise(() => writeFile(file, text))
      const e = yield* dm.load({ symbol: "AAPL", timeframe: "1h", mode: "tail", end: ET("2025-01-06T12:00:00") }).pipe(
        Effect.flip
      )
      expect(e).toMatchObject({ _tag: "CorruptData", line: 3 })
      expect(yield* Effect.promise(() => readFile(file, "utf8"))).toBe(text)
      expect(sim.stats().requests.historical).toBe(0)
    }).pipe(Effect.scoped))
})

describe("DataManager under interruption and faults", () => {
  const request = {
    symbol: "AAPL",
    timeframe: "1m",
    mode: "full" as const,
    start: ET("2025-02-03T00:00:00"),
    end: ET("2025-02-15T00:00:00")
  }

  it.live(
    "an interrupted load keeps its checkpoints; the re-run requests only the remaining segments",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim({ pacing: "off", latencyMs: 150 })
        const { dm, store } = yield* setup({}, { checkpointEverySegments: 1, segmentsInFlight: 1 }, sim)
        const fiber = yield* dm.load(request).pipe(Effect.fork)
        yield* eventually("four segments requested", () => historical(sim), (n) => n >= 4, 10_000)
        yield* Fiber.interrupt(fiber)
        const kept = barsOf(yield* store.read("AAPL", "1m")).length
        expect(kept % 390).toBe(0)
        expect(kept).toBeGreaterThanOrEqual(3 * 390)
        yield* eventually("cancel at the gateway", () => sim.stats().historicalCancels, (n) => n >= 1)
        const before = historical(sim)
        const r = yield* dm.load(request)
        // 10 sessions; the planner re-plans only the ones not stored.
        expect(r.segmentsPlanned).toBe(10 - kept / 390)
        expect(historical(sim) - before).toBe(r.segmentsPlanned)
        expect(r.totalBars).toBe(10 * 390)
        expect(r.gapsLeft).toBe(0)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a gateway restart in the middle of a load completes with data identical to an undisturbed load",
    () =>
      Effect.gen(function*() {
        const calm = yield* setup()
        yield* calm.dm.load(request)
        const reference = yield* Effect.promise(() => readFile(join(calm.dataDir, "AAPL_1m.csv"), "utf8"))

        const sim = yield* startSim({ pacing: "off", latencyMs: 100 })
        const { dm, dataDir } = yield* setup({}, { segmentsInFlight: 2 }, sim)
        const fiber = yield* dm.load(request).pipe(Effect.fork)
        yield* eventually("load under way", () => historical(sim), (n) => n >= 3, 10_000)
        // The gateway dies and stays down for a moment: refused connections, then back on the same port.
        yield* Effect.promise(() => sim.setFaults({ refuseConnections: true, dropConnections: true }))
        yield* Effect.sleep("500 millis")
        yield* Effect.promise(() => sim.setFaults({ refuseConnections: false }))
        const r = yield* Fiber.join(fiber)
        expect(r.gapsLeft).toBe(0)
        expect(r.segmentsFailed).toBe(0)
        expect(sim.stats().totalConnections).toBeGreaterThanOrEqual(2)
        expect(yield* Effect.promise(() => readFile(join(dataDir, "AAPL_1m.csv"), "utf8"))).toBe(reference)
      }).pipe(Effect.scoped),
    60_000
  )
})
