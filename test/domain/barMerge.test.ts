import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Bar } from "../../src/domain/Bar.ts"
import { mergeBars as mergeColumns, normaliseSeries } from "../../src/domain/barMerge.ts"
import { type BarSeries, barsOf, extraRows, seriesFromBars } from "../../src/domain/barSeries.ts"

const bar = (time: number, close: number): Bar => ({
  time,
  open: close,
  high: close,
  low: close,
  close,
  volume: 1,
  wap: null,
  count: null
})
const series = (
  bars: ReadonlyArray<Bar>,
  extraColumns: ReadonlyArray<string> = [],
  extras?: ReadonlyArray<ReadonlyArray<string>>
): BarSeries => seriesFromBars(bars, extraColumns, extras)
const mergeBars = (stored: BarSeries, bars: ReadonlyArray<Bar>, overwrite?: boolean) =>
  mergeColumns(stored, seriesFromBars(bars), overwrite)
const closes = (s: BarSeries) => barsOf(s).map((b) => [b.time, b.close])

describe("mergeBars", () => {
  const stored = series([bar(10, 1), bar(20, 2), bar(30, 3)], ["note"], [["a"], ["b"], ["c"]])

  it("new bars win on equal timestamps; replaced rows keep their extras, new rows get empty ones", () => {
    const m = mergeBars(stored, [bar(20, 22), bar(25, 25), bar(40, 4), bar(5, 0.5)])
    expect(closes(m.series)).toEqual([[5, 0.5], [10, 1], [20, 22], [25, 25], [30, 3], [40, 4]])
    expect(extraRows(m.series)).toEqual([[""], ["a"], ["b"], [""], ["c"], [""]])
    expect({ added: m.added, replaced: m.replaced, changed: m.changed }).toEqual({
      added: 3,
      replaced: 1,
      changed: true
    })
  })
  it("overwrite=false keeps the stored bar", () => {
    const m = mergeBars(stored, [bar(20, 22), bar(35, 35)], false)
    expect(closes(m.series)).toEqual([[10, 1], [20, 2], [30, 3], [35, 35]])
    expect({ added: m.added, replaced: m.replaced }).toEqual({ added: 1, replaced: 0 })
  })
  it("replacements plus appends (a re-fetched tail) take the in-place path and keep extras", () => {
    const m = mergeBars(stored, [bar(30, 33), bar(10, 11), bar(50, 5)])
    expect(closes(m.series)).toEqual([[10, 11], [20, 2], [30, 33], [50, 5]])
    expect(extraRows(m.series)).toEqual([["a"], ["b"], ["c"], [""]])
    expect(barsOf(stored).map((b) => b.close)).toEqual([1, 2, 3]) // the input is not mutated
  })
  it("identical bars change nothing, so a save can be skipped", () => {
    const m = mergeBars(stored, [bar(20, 2), bar(30, 3)])
    expect({ added: m.added, replaced: m.replaced, changed: m.changed }).toEqual({
      added: 0,
      replaced: 2,
      changed: false
    })
    expect(mergeBars(stored, []).changed).toBe(false)
  })
  it("duplicates inside one input keep the last occurrence; unsorted stored rows are sorted", () => {
    const messy = series([bar(30, 3), bar(10, 1), bar(30, 33)], ["n"], [["x"], ["y"], ["z"]])
    const n = normaliseSeries(messy)
    expect(closes(n.series)).toEqual([[10, 1], [30, 33]])
    expect(extraRows(n.series)).toEqual([["y"], ["z"]])
    expect(n.changed).toBe(true)
    const m = mergeBars(series([]), [bar(2, 1), bar(1, 1), bar(2, 9)])
    expect(closes(m.series)).toEqual([[1, 1], [2, 9]])
    expect(m.added).toBe(2)
  })

  const arbBars = fc.array(fc.record({ t: fc.integer({ min: 0, max: 200 }), c: fc.integer({ min: 1, max: 1000 }) }), {
    maxLength: 60
  })
    .map((xs) => xs.map(({ t, c }) => bar(t * 60_000, c / 100)))
  const ascendingUnique = (s: BarSeries) => barsOf(s).every((b, i) => i === 0 || b.time > barsOf(s)[i - 1]!.time)

  it("property: output is sorted and unique, holds every timestamp, and the new bar for each new timestamp", () => {
    fc.assert(fc.property(arbBars, arbBars, (a, b) => {
      const m = mergeBars(series(a), b)
      expect(ascendingUnique(m.series)).toBe(true)
      expect(new Set(barsOf(m.series).map((x) => x.time))).toEqual(new Set([...a, ...b].map((x) => x.time)))
      const lastNew = new Map(b.map((x) => [x.time, x]))
      for (const x of barsOf(m.series)) if (lastNew.has(x.time)) expect(x).toEqual(lastNew.get(x.time))
      expect(extraRows(m.series).length).toBe(barsOf(m.series).length)
    }))
  })
  it("property: merging is idempotent", () => {
    fc.assert(fc.property(arbBars, arbBars, (a, b) => {
      const once = mergeBars(series(a), b)
      const twice = mergeBars(once.series, b)
      expect(barsOf(twice.series)).toEqual(barsOf(once.series))
      expect(twice.added).toBe(0)
      expect(twice.changed).toBe(false)
    }))
  })
  it("property: disjoint batches merge to the same series in either order", () => {
    fc.assert(fc.property(arbBars, arbBars, arbBars, (s, a, b0) => {
      const taken = new Set(a.map((x) => x.time))
      const b = b0.filter((x) => !taken.has(x.time))
      const ab = mergeBars(mergeBars(series(s), a).series, b).series
      const ba = mergeBars(mergeBars(series(s), b).series, a).series
      expect(barsOf(ab)).toEqual(barsOf(ba))
    }))
  })
})
