/**
 * The BarStore contract as one set of cases, run against every backend (barStore.csv.test.ts, barStore.pg.test.ts):
 * the same inputs must give the same answers, whatever keeps the bars. A reference model (a Map of rows, the
 * merge rule of domain/barMerge.ts written the slow obvious way) checks random merge sequences.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Layer } from "effect"
import fc from "fast-check"
import type { Bar } from "../../src/domain/Bar.ts"
import { barsOf, type BarSeries, extrasAt, seriesFromBars } from "../../src/domain/barSeries.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import type { BarStoreShape, StoredBars } from "../../src/layers/barStoreShape.ts"

/** A fresh, empty store per case, and what tears it down. */
export interface StoreFactory {
  readonly name: string
  readonly fresh: () => Promise<{ readonly layer: Layer.Layer<BarStore, unknown>; readonly close: () => Promise<void> }>
}

type Stored = BarSeries & Pick<StoredBars, "indexHeader" | "outOfOrder" | "duplicates" | "missing">
const columns = (r: StoredBars): Stored => r

export const bar = (time: number, close: number, volume: number | null = 100): Bar => ({
  time,
  open: close,
  high: close + 1,
  low: close - 1,
  close,
  volume,
  wap: null,
  count: null
})
const s = (bars: ReadonlyArray<Bar>) => seriesFromBars(bars)
const day = (d: number) => Date.UTC(2024, 0, d)

/** The merge rule, slowly: a Map from time to row, new wins unless overwrite is false, extras kept on replace. */
class Model {
  readonly rows = new Map<number, { bar: Bar; extras: ReadonlyArray<string> }>()
  constructor(readonly extraColumns: ReadonlyArray<string> = []) {}
  merge(bars: ReadonlyArray<Bar>, overwrite: boolean) {
    const last = new Map<number, Bar>()
    for (const b of bars) last.set(b.time, b)
    let added = 0, replaced = 0
    for (const [t, b] of last) {
      const old = this.rows.get(t)
      if (!old) {
        added++
        this.rows.set(t, { bar: b, extras: this.extraColumns.map(() => "") })
      } else if (overwrite) {
        replaced++
        this.rows.set(t, { bar: b, extras: old.extras })
      }
    }
    return { added, replaced }
  }
  bars() {
    return [...this.rows.keys()].sort((a, b) => a - b).map((t) => this.rows.get(t)!.bar)
  }
}

const sameBars = (a: ReadonlyArray<Bar>, b: ReadonlyArray<Bar>) => {
  expect(a.length).toBe(b.length)
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!
    expect([x.time, x.open, x.high, x.low, x.close, x.volume]).toEqual([
      y.time,
      y.open,
      y.high,
      y.low,
      y.close,
      y.volume
    ])
  }
}

export const barStoreSuite = (factory: StoreFactory) => {
  const withStore = <A, E>(use: (store: BarStoreShape) => Effect.Effect<A, E>) =>
    Effect.acquireUseRelease(
      Effect.promise(factory.fresh),
      ({ layer }) => Effect.provide(Effect.flatMap(BarStore, use), layer),
      ({ close }) => Effect.promise(close)
    )

  describe(`BarStore contract: ${factory.name}`, () => {
    it.effect("round-trips every double exactly, NaN prices and absent volumes included", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const odd: Array<Bar> = [
            {
              time: day(1),
              open: 0.1 + 0.2,
              high: 1e-300,
              low: -5e-324,
              close: 123456789.12345679,
              volume: 0,
              wap: null,
              count: null
            },
            { time: day(2), open: NaN, high: NaN, low: NaN, close: NaN, volume: null, wap: null, count: null },
            {
              time: day(3),
              open: 1.7976931348623157e308,
              high: 2 ** 53,
              low: 1 / 3,
              close: 2 / 3,
              volume: 1e15 + 0.5,
              wap: null,
              count: null
            }
          ]
          const r = yield* store.merge("ODD", "1d", s(odd))
          expect(r).toEqual({ added: 3, replaced: 0, total: 3, first: day(1), last: day(3) })
          const back = columns(yield* store.read("ODD", "1d"))
          sameBars(barsOf(back), odd)
          expect(back.missing).toBe(1)
          expect([back.outOfOrder, back.duplicates, back.indexHeader]).toEqual([0, 0, "timestamp"])
        })
      ))

    it.effect("merges: new wins on equal times, keep-old with overwrite false, last duplicate of one input wins", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.merge("AAPL", "1d", s([bar(day(3), 3), bar(day(1), 1), bar(day(2), 2)]))
          const r1 = yield* store.merge("aapl", "1d", s([bar(day(2), 20), bar(day(4), 4), bar(day(4), 40)]))
          expect(r1).toEqual({ added: 1, replaced: 1, total: 4, first: day(1), last: day(4) })
          const r2 = yield* store.merge("AAPL", "1d", s([bar(day(1), 99), bar(day(0), 0)]), { overwrite: false })
          expect(r2).toEqual({ added: 1, replaced: 0, total: 5, first: day(0), last: day(4) })
          const closes = barsOf(columns(yield* store.read("AAPL", "1d"))).map((b) => b.close)
          expect(closes).toEqual([0, 1, 20, 3, 40])
        })
      ))

    it.effect("random merge sequences agree with the reference model", () =>
      withStore((store) =>
        Effect.gen(function*() {
          const batch = fc.array(
            fc.record({ t: fc.integer({ min: 0, max: 60 }), c: fc.integer({ min: 1, max: 1000 }) }),
            { maxLength: 25 }
          )
          const plan = fc.sample(fc.array(fc.tuple(batch, fc.boolean()), { minLength: 5, maxLength: 12 }), {
            seed: 16,
            numRuns: 3
          })
          for (const [k, steps] of plan.entries()) {
            const model = new Model()
            const name = `RND${k}`
            for (const [rows, overwrite] of steps) {
              const bars = rows.map(({ c, t }) => bar(day(1) + t * 60_000, c / 8, c % 3 === 0 ? null : c))
              const want = model.merge(bars, overwrite)
              const got = yield* store.merge(name, "1m", s(bars), { overwrite })
              expect({ added: got.added, replaced: got.replaced, total: got.total }).toEqual({
                ...want,
                total: model.rows.size
              })
            }
            if (model.rows.size === 0) continue
            sameBars(barsOf(columns(yield* store.read(name, "1m"))), model.bars())
            const times = model.bars().map((b) => b.time)
            expect(yield* store.range(name, "1m")).toEqual({ first: times[0], last: times[times.length - 1] })
          }
        })
      ))

    it.effect("write replaces a series with its extras; merge keeps a replaced row's extras, blanks new ones", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.merge("EXT", "1h", s([bar(day(9), 9)]))
          const data = seriesFromBars([bar(day(2), 2), bar(day(1), 1), bar(day(2), 22)], ["rsi", "note"], [
            ["50", "a"],
            ["40", "q\"uo,te"],
            ["55", "{x}\\y"]
          ])
          const w = yield* store.write("EXT", "1h", data)
          expect(w).toEqual({ added: 2, replaced: 0, total: 2, first: day(1), last: day(2) })
          yield* store.merge("EXT", "1h", s([bar(day(2), 7), bar(day(3), 3)]))
          const back = columns(yield* store.read("EXT", "1h"))
          expect(back.extraColumns).toEqual(["rsi", "note"])
          expect(barsOf(back).map((b) => b.close)).toEqual([1, 7, 3])
          expect([0, 1, 2].map((i) => extrasAt(back, i))).toEqual([["40", "q\"uo,te"], ["55", "{x}\\y"], ["", ""]])
        })
      ))

    it.effect("reads inclusive windows; refuses a reversed or NaN window", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.merge("WIN", "1d", s([1, 2, 3, 4, 5].map((d) => bar(day(d), d))))
          const w = columns(yield* store.read("WIN", "1d", { start: day(2), end: day(4) }))
          expect(barsOf(w).map((b) => b.close)).toEqual([2, 3, 4])
          expect(columns(yield* store.read("WIN", "1d", { start: day(4) + 1 })).length).toBe(1)
          expect(columns(yield* store.read("WIN", "1d", { end: day(1) })).length).toBe(1)
          expect(columns(yield* store.read("WIN", "1d", { start: day(6) })).length).toBe(0)
          const bad = yield* Effect.flip(store.read("WIN", "1d", { start: day(4), end: day(2) }))
          expect(bad._tag).toBe("InvalidInput")
          expect((yield* Effect.flip(store.read("WIN", "1d", { start: NaN })))._tag).toBe("InvalidInput")
        })
      ))

    it.effect("range, NotFound and version: absent series, empty series, changes and no-op merges", () =>
      withStore((store) =>
        Effect.gen(function*() {
          expect((yield* Effect.flip(store.read("NONE", "1d")))._tag).toBe("NotFound")
          expect((yield* Effect.flip(store.range("NONE", "1d")))._tag).toBe("NotFound")
          expect(yield* store.version("NONE", "1d")).toBeUndefined()
          expect(yield* store.merge("NONE", "1d", s([]))).toEqual({
            added: 0,
            replaced: 0,
            total: 0,
            first: null,
            last: null
          })
          yield* store.write("EMPTY", "1d", s([]))
          expect(columns(yield* store.read("EMPTY", "1d")).length).toBe(0)
          expect((yield* Effect.flip(store.range("EMPTY", "1d")))._tag).toBe("NotFound")

          yield* store.merge("VER", "1d", s([bar(day(1), 1), bar(day(2), 2)]))
          const v1 = yield* store.version("VER", "1d")
          expect(v1).toBeTypeOf("string")
          yield* store.merge("VER", "1d", s([bar(day(2), 2)])) // identical: nothing changes
          expect(yield* store.version("VER", "1d")).toBe(v1)
          yield* store.merge("VER", "1d", s([bar(day(2), 2.5)]))
          const v2 = yield* store.version("VER", "1d")
          expect(v2).not.toBe(v1)
          yield* store.write("VER", "1d", s([bar(day(5), 5)]))
          expect(yield* store.version("VER", "1d")).not.toBe(v2)
          expect(yield* store.range("VER", "1d")).toEqual({ first: day(5), last: day(5) })
        })
      ))

    it.effect("lists every stored series, sorted, keys with '_' and '.' included", () =>
      withStore((store) =>
        Effect.gen(function*() {
          for (const [k, tf] of [["MSFT", "1h"], ["BRK.B", "1d"], ["MY_SER", "5m"], ["MSFT", "1d"], ["AAPL", "1h"]]) {
            yield* store.merge(k!, tf!, s([bar(day(1), 1)]))
          }
          const listed = (yield* store.list()).map((x) => [x.series, x.timeframe, x.file.length > 0])
          expect(listed).toEqual([
            ["AAPL", "1h", true],
            ["BRK.B", "1d", true],
            ["MSFT", "1d", true],
            ["MSFT", "1h", true],
            ["MY_SER", "5m", true]
          ])
        })
      ))

    it.effect("refuses hostile keys, unknown timeframes and unwritable bars, changing nothing", () =>
      withStore((store) =>
        Effect.gen(function*() {
          yield* store.merge("SAFE", "1d", s([bar(day(1), 1)]))
          const before = yield* store.version("SAFE", "1d")
          for (const key of ["../etc", "A'; DROP TABLE ktrdr_bars; --", "a\u0000b", "", "X".repeat(33), "A B"]) {
            const e = yield* Effect.flip(store.merge(key, "1d", s([bar(day(1), 1)])))
            expect(e._tag).toBe("InvalidInput")
            expect((yield* Effect.flip(store.read(key, "1d")))._tag).toBe("InvalidInput")
            expect((yield* Effect.flip(store.version(key, "1d")))._tag).toBe("InvalidInput")
          }
          expect((yield* Effect.flip(store.read("SAFE", "3h")))._tag).toBe("InvalidInput")
          const inf = yield* Effect.flip(store.merge("SAFE", "1d", s([bar(day(2), Infinity)])))
          expect(inf._tag).toBe("InvalidInput")
          const clash = seriesFromBars([bar(day(3), 3)], ["Close"], [["1"]])
          expect((yield* Effect.flip(store.write("SAFE", "1d", clash)))._tag).toBe("InvalidInput")
          expect(yield* store.version("SAFE", "1d")).toBe(before)
          expect(barsOf(columns(yield* store.read("SAFE", "1d"))).map((b) => b.close)).toEqual([1])
        })
      ))
  })
}
