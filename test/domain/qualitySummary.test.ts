import { describe, expect, it } from "vitest"
import type { Bar } from "../../src/domain/Bar.ts"
import { checkQuality } from "../../src/domain/QualityCheck.ts"
import { addQuality, emptyQuality, qualityLines } from "../../src/domain/qualitySummary.ts"

const bar = (i: number, o: Partial<Bar> = {}): Bar => ({
  time: Date.UTC(2025, 0, 2, 15, i),
  open: 100,
  high: 101,
  low: 99,
  close: 100,
  volume: 1000,
  wap: null,
  count: null,
  ...o
})

describe("quality summary", () => {
  it("adds segments' reports per issue type, keeping the worst severity and counting checked bars", () => {
    const clean = Array.from({ length: 30 }, (_, i) => bar(i))
    const bad = Array.from({ length: 30 }, (_, i) => bar(i, i === 3 ? { high: 98 } : i === 7 ? { volume: 0 } : {}))
    const a = addQuality(emptyQuality, checkQuality(clean))
    expect(a).toEqual({ checkedBars: 30, errors: 0, warnings: 0, issues: [] })
    const b = addQuality(addQuality(a, checkQuality(bad)), checkQuality(bad))
    expect(b.checkedBars).toBe(90)
    const high = b.issues.find((i) => i.type === "high_too_low")!
    expect(high).toMatchObject({ severity: "error", count: 2, description: "high too low" })
    expect(b.errors).toBe(b.issues.filter((i) => i.severity === "error").length)
    expect(b.issues.map((i) => i.severity)).toEqual(
      [...b.issues.map((i) => i.severity)].sort((x, y) =>
        ["error", "warning", "info"].indexOf(x) - ["error", "warning", "info"].indexOf(y)
      )
    )
    // Which bars: the same bar of each of the two bad segments.
    const at = new Date(bad[3]!.time).toISOString()
    expect(high.bars).toEqual([at, at])
    expect(qualityLines(b)).toContain(`Data quality error: high too low (2 bars: ${at}, ${at})`)
    expect(qualityLines(b).every((l) => !l.includes("info"))).toBe(true)
  })
})
