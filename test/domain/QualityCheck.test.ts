import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import type { Bar } from "../../src/domain/Bar.ts"
import { checkQuality, enforceQuality, type IssueType, type QualityReport } from "../../src/domain/QualityCheck.ts"

const H = 3_600_000
const T = Date.UTC(2024, 0, 8, 14)

/** Gently rising hourly bars; `over` patches bar k. */
const series = (n: number, over: Record<number, Partial<Bar>> = {}): Array<Bar> =>
  Array.from({ length: n }, (_, k) => {
    const c = 100 + k * 0.1
    return {
      time: T + k * H,
      open: c - 0.05,
      high: c + 0.2,
      low: c - 0.2,
      close: c,
      volume: 1000 + (k % 3) * 10,
      wap: null,
      count: null,
      ...over[k]
    }
  })

const issue = (r: QualityReport, type: IssueType, column?: string) =>
  r.issues.find((i) => i.type === type && (column === undefined || i.column === column))
const types = (r: QualityReport) => r.issues.map((i) => i.type)

describe("quality checks", () => {
  it("clean data: no issues, output equals input, with or without repair", () => {
    const bars = series(50)
    for (const repair of [false, true]) {
      const r = checkQuality(bars, { repair })
      expect(r.issues).toEqual([])
      expect(r.bars).toEqual(bars)
      expect(r.counts).toEqual({ info: 0, warning: 0, error: 0 })
    }
  })

  it("empty input is an error", () => {
    const r = checkQuality([])
    expect(r.issues).toMatchObject([{ type: "empty_dataset", severity: "error", check: 1 }])
  })

  it("invalid timestamps are errors; repair drops those rows", () => {
    const bars = series(5, { 2: { time: Number.NaN } })
    const r = checkQuality(bars, { repair: true })
    expect(issue(r, "invalid_timestamp")).toMatchObject({ severity: "error", count: 1, repaired: true })
    expect(r.bars).toHaveLength(4)
    expect(r.changes.rowsDropped).toBe(1)
  })

  it("duplicates: warning, the last row of a timestamp is kept", () => {
    const bars = series(3)
    const dupes = [bars[0]!, bars[1]!, { ...bars[1]!, close: 100.15 }, bars[2]!, { ...bars[2]!, close: 100.25 }]
    const r = checkQuality(dupes, { repair: true })
    expect(issue(r, "duplicate_timestamps")).toMatchObject({
      severity: "warning",
      count: 2,
      check: 2,
      metadata: { duplicate_count: 2 }
    })
    expect(r.bars.map((b) => b.close)).toEqual([100, 100.15, 100.25])
    expect(r.changes.duplicatesRemoved).toBe(2)
  })

  it("ordering: warning, repair sorts", () => {
    const bars = series(6)
    const shuffled = [bars[0]!, bars[3]!, bars[1]!, bars[2]!, bars[5]!, bars[4]!]
    const r = checkQuality(shuffled, { repair: true })
    expect(issue(r, "unsorted_index")).toMatchObject({ severity: "warning", count: 2, repaired: true })
    expect(r.bars).toEqual(bars)
    expect(checkQuality(shuffled).bars).toBe(shuffled)
  })

  it("non-positive and missing prices: interpolated in time between neighbours", () => {
    const bars = series(20, { 5: { open: 0 }, 9: { high: Number.NaN } })
    const r = checkQuality(bars, { repair: true })
    expect(issue(r, "non_positive_price", "open")).toMatchObject({
      severity: "error",
      count: 1,
      repaired: true,
      check: 4
    })
    expect(issue(r, "missing_values", "high")).toMatchObject({
      severity: "warning",
      count: 1,
      repaired: true,
      check: 5
    })
    expect(r.bars[5]!.open).toBeCloseTo((bars[4]!.open + bars[6]!.open) / 2, 10)
    expect(r.bars[9]!.high).toBeGreaterThan(bars[8]!.high)
    expect(r.bars[9]!.high).toBeLessThan(bars[10]!.high)
    expect(r.changes.pricesInterpolated).toBe(2)
  })

  it("interpolation weighs by time and fills the edges", () => {
    const bars = series(30).filter((_, k) => k !== 3) // a 2-hour step between k=2 and k=4
    bars[2] = { ...bars[2]!, close: Number.NaN }
    bars[0] = { ...bars[0]!, close: -1 }
    const r = checkQuality(bars, { repair: true })
    expect(r.bars[0]!.close).toBe(bars[1]!.close)
    expect(r.bars[2]!.close).toBeCloseTo(bars[1]!.close + (bars[3]!.close - bars[1]!.close) / 3, 10)
  })

  it("10% or more bad values in a column: an error, left unrepaired", () => {
    const bars = series(10, { 3: { close: Number.NaN } })
    const r = checkQuality(bars, { repair: true })
    expect(issue(r, "missing_values", "close")).toMatchObject({ severity: "error", repaired: false })
    expect(r.bars[3]!.close).toBeNaN()
  })

  it("volume: negative → 0 on repair; IB's absent marker (null) is info and kept", () => {
    const bars = series(10, { 2: { volume: -500 }, 4: { volume: null }, 5: { volume: null } })
    const r = checkQuality(bars, { repair: true })
    expect(issue(r, "invalid_negative_volume")).toMatchObject({ severity: "warning", count: 1, repaired: true })
    expect(issue(r, "ib_volume_indicator")).toMatchObject({ severity: "info", count: 2, repaired: false })
    expect(r.bars.map((b) => b.volume).slice(2, 6)).toEqual([0, 1000, null, null])
  })

  it("OHLC relations: high/low repaired to enclose open and close", () => {
    const bars = series(10, { 1: { high: 99 }, 2: { low: 101 } })
    const r = checkQuality(bars, { repair: true })
    expect(issue(r, "high_too_low")).toMatchObject({ severity: "error", count: 1, repaired: true })
    expect(issue(r, "low_too_high")).toMatchObject({ severity: "error", count: 1, repaired: true })
    expect(r.bars[1]!.high).toBe(Math.max(bars[1]!.open, bars[1]!.close))
    expect(r.bars[2]!.low).toBe(Math.min(bars[2]!.open, bars[2]!.close))
    expect(r.changes).toMatchObject({ highsRaised: 1, lowsLowered: 1 })
  })

  it("without repair, nothing changes and nothing is marked repaired", () => {
    const bars = series(10, { 1: { open: 0 }, 2: { volume: -500 } })
    const r = checkQuality(bars)
    expect(r.bars).toBe(bars)
    expect(r.issues.every((i) => !i.repaired)).toBe(true)
    expect(r.changes).toEqual({
      rowsDropped: 0,
      duplicatesRemoved: 0,
      sorted: false,
      pricesInterpolated: 0,
      volumesFixed: 0,
      highsRaised: 0,
      lowsLowered: 0
    })
    expect(types(r)).toEqual(expect.arrayContaining(["non_positive_price", "invalid_negative_volume"]))
  })

  it("gaps: share of missing bars against the thresholds", () => {
    const bars = series(90)
    const gap = (barsMissing: number) => [{ start: T + 10 * H, end: T + (10 + barsMissing) * H, barsMissing }]
    expect(issue(checkQuality(bars, { gaps: gap(3) }), "timestamp_gaps")).toMatchObject({
      severity: "info",
      metadata: { gap_count: 1, missing_periods: 3 }
    })
    expect(issue(checkQuality(bars, { gaps: gap(7) }), "timestamp_gaps")?.severity).toBe("warning")
    expect(issue(checkQuality(bars, { gaps: gap(7), maxGapPercentage: 5 }), "timestamp_gaps")?.severity).toBe("error")
    expect(issue(checkQuality(bars, { gaps: gap(12) }), "timestamp_gaps")?.severity).toBe("error")
    expect(issue(checkQuality(bars, { gaps: [] }), "timestamp_gaps")).toBeUndefined()
    // Expected closures (weekends, holidays, outside hours) are not quality issues.
    const weekend = { start: T - 2 * 24 * H, end: T, barsMissing: 48, classification: "expected_weekend" }
    expect(issue(checkQuality(bars, { gaps: [weekend] }), "timestamp_gaps")).toBeUndefined()
    const both = checkQuality(bars, { gaps: [weekend, { ...gap(3)[0]!, classification: "unexpected" }] })
    expect(issue(both, "timestamp_gaps")).toMatchObject({ count: 1, metadata: { missing_periods: 3 } })
  })

  it("outliers: a reverting spike beyond the threshold (robust σ of local returns); the threshold is honoured", () => {
    // 41 bars zig-zagging ±0.1 % around 100, one close 2.5 % up that comes straight back: ~8 robust σ.
    const bars = series(41).map((b, k) => {
      const c = k === 20 ? 102.5 : 100 * (k % 2 === 0 ? 1.001 : 0.999)
      return { ...b, open: c, high: c, low: c, close: c }
    })
    const found = issue(checkQuality(bars), "price_outliers", "close")
    expect(found).toMatchObject({
      severity: "warning",
      count: 1,
      repaired: false,
      check: 7,
      metadata: { threshold: 6 }
    })
    expect(found!.examples.map((e) => e.time)).toEqual([bars[20]!.time])
    expect(found!.metadata!.max_z).toBeGreaterThan(6)
    expect(found!.metadata!.max_z).toBeLessThan(12)
    expect(issue(checkQuality(bars, { outlierZ: 15 }), "price_outliers")).toBeUndefined()
    const far = bars.map((b, k) => (k === 20 ? { ...b, open: 140, high: 140, low: 140, close: 140 } : b))
    expect(issue(checkQuality(far), "price_outliers", "close")?.severity).toBe("error")
    expect(checkQuality(far, { repair: true }).bars[20]!.close).toBe(140)
    // A move that stays (no revert) is a move, not a print.
    const step = bars.map((b, k) => (k >= 20 ? { ...b, open: 102.5, high: 102.5, low: 102.5, close: 102.5 } : b))
    expect(issue(checkQuality(step), "price_outliers")).toBeUndefined()
  })

  it("zero volume: 2 of 5 bars = 40% is a warning, informational for instruments without volume", () => {
    const bars = series(5, { 1: { volume: 0 }, 2: { volume: 0 } })
    expect(issue(checkQuality(bars), "zero_volume")).toMatchObject({
      severity: "warning",
      count: 2,
      metadata: { percentage: 40, longest_run: 2 }
    })
    expect(issue(checkQuality(bars, { volumeReported: false }), "zero_volume")?.severity).toBe("info")
    const mostly = series(10, Object.fromEntries([0, 1, 2, 3, 4, 5].map((k) => [k, { volume: 0 }])))
    expect(issue(checkQuality(mostly), "zero_volume")?.severity).toBe("error")
  })

  it("volume spikes over 100× the median", () => {
    const r = checkQuality(series(20, { 7: { volume: 500_000 } }))
    expect(issue(r, "extreme_volume_spike")).toMatchObject({ severity: "warning", count: 1 })
    expect(r.issues.find((i) => i.type === "extreme_volume_spike")!.examples[0]!.time).toBe(T + 7 * H)
  })

  it("price moves: > 20% is an error, 10–20% a warning", () => {
    const bars = series(10).map((
      b,
      k
    ) => (k >= 5 ? { ...b, open: b.open * 1.5, high: b.high * 1.5, low: b.low * 1.5, close: b.close * 1.5 } : b))
    const r = checkQuality(bars)
    expect(issue(r, "extreme_price_movement")).toMatchObject({ severity: "error", count: 1 })
    expect(issue(r, "extreme_price_movement")!.examples[0]!.detail).toMatch(/50\.\d%/)
    const mild = series(10, { 6: { close: 112 } })
    expect(issue(checkQuality(mild), "suspicious_price_movement")?.severity).toBe("warning")
  })
})

describe("strict mode", () => {
  it("unrepaired errors fail as CorruptData naming the source", () => {
    const bars = series(10, { 1: { high: 99 } })
    const strict = enforceQuality(bars, { source: "AAPL_1h.csv" })
    expect(Either.isLeft(strict)).toBe(true)
    if (Either.isLeft(strict)) {
      expect(strict.left).toMatchObject({ _tag: "CorruptData", file: "AAPL_1h.csv", line: 0 })
      expect(strict.left.message).toMatch(/high_too_low ×1 first at 2024-01-08T15:00:00.000Z/)
    }
    const repaired = enforceQuality(bars, { repair: true })
    expect(Either.isRight(repaired) && repaired.right.bars[1]!.high).toBe(Math.max(bars[1]!.open, bars[1]!.close))
    expect(Either.isRight(enforceQuality(series(10, { 2: { volume: -5 } })))).toBe(true) // warnings pass
    expect(Either.isLeft(enforceQuality([]))).toBe(true)
  })
})

describe("repair (property)", () => {
  const price = fc.oneof(
    { arbitrary: fc.double({ min: 1, max: 500, noNaN: true }), weight: 20 },
    { arbitrary: fc.constantFrom(0, -3, Number.NaN, Number.POSITIVE_INFINITY), weight: 1 }
  )
  const volume = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 1_000_000 }), weight: 10 },
    { arbitrary: fc.constantFrom(null, -1000, Number.NaN), weight: 1 }
  )
  const bar = fc.record({
    time: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 60 }).map((k) => T + k * H), weight: 30 }, {
      arbitrary: fc.constant(Number.NaN),
      weight: 1
    }),
    open: price,
    high: price,
    low: price,
    close: price,
    volume,
    wap: fc.constant(null),
    count: fc.constant(null)
  })

  it("repaired output passes every check it repaired, sorted and unique", () => {
    fc.assert(
      fc.property(fc.array(bar, { minLength: 1, maxLength: 80 }), (bars) => {
        const first = checkQuality(bars, { repair: true })
        const second = checkQuality(first.bars)
        for (const i of first.issues.filter((x) => x.repaired)) {
          expect(second.issues.filter((x) => x.type === i.type && x.column === i.column)).toEqual([])
        }
        for (let k = 1; k < first.bars.length; k++) expect(first.bars[k]!.time).toBeGreaterThan(first.bars[k - 1]!.time)
        // Repair is idempotent: a second repair finds nothing more to change.
        expect(checkQuality(first.bars, { repair: true }).bars).toEqual(first.bars)
      }),
      { numRuns: 500 }
    )
  })
})
