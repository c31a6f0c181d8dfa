import { describe, expect, it } from "vitest"
import type { Bar } from "../../src/domain/Bar.ts"
import { IbError } from "../../src/domain/errors.ts"
import { addTotals, countSegment, fetchProgress, noSegments } from "../../src/domain/loadSteps.ts"
import { addQuality, emptyQuality, mergeQuality } from "../../src/domain/qualitySummary.ts"
import { checkQuality } from "../../src/domain/QualityCheck.ts"

const bar = (time: number, close: number): Bar => ({
  time,
  open: close,
  high: close + 1,
  low: close - 1,
  close,
  volume: 100,
  wap: null,
  count: null
})
const day = Date.UTC(2025, 0, 2, 14, 30)
const bars = (n: number, spikeAt = -1) =>
  Array.from({ length: n }, (_, i) => bar(day + i * 60_000, i === spikeAt ? 1000 : 100 + (i % 3)))

describe("a load's steps add up as one load does", () => {
  it("totals of segments counted apart equal the totals counted in one pass", () => {
    const segments = [
      { _tag: "bars" as const, bars: bars(50, 20) },
      { _tag: "noData" as const },
      { _tag: "bars" as const, bars: [] },
      { _tag: "failed" as const, error: IbError.of("timeout", "no answer") },
      { _tag: "bars" as const, bars: bars(30) }
    ]
    const onePass = segments.reduce((c, s) => countSegment(c, s, true), noSegments)
    const apart = segments.map((s) => countSegment(noSegments, s, true)).reduce(addTotals, noSegments)
    expect(apart).toEqual(onePass)
    expect(onePass).toMatchObject({ fetched: 4, empty: 2, failed: 1, bars: 80 })
    expect(onePass.quality.checkedBars).toBe(80)
  })

  it("merging quality summaries is adding the reports one by one", () => {
    const a = checkQuality(bars(60, 10), { volumeReported: true })
    const b = checkQuality(bars(60, 40), { volumeReported: true })
    const oneByOne = addQuality(addQuality(emptyQuality, a), b)
    const merged = mergeQuality(addQuality(emptyQuality, a), addQuality(emptyQuality, b))
    expect(oneByOne.issues.length, "the spikes were found").toBeGreaterThan(0)
    expect(merged).toEqual(oneByOne)
    expect(mergeQuality(emptyQuality, oneByOne)).toEqual(oneByOne)
  })

  it("progress names the segment last finished", () => {
    const segs = [{
      endMs: 0,
      end: "",
      duration: "1 D",
      barSize: "1 min",
      covers: [day, day + 3_600_000] as const,
      bars: 60
    }]
    const p = fetchProgress(1, segs, 0, 60)
    expect(p).toMatchObject({ phase: "fetching_segments", step: "Fetching segment 1/1 from IB", percentage: 96 })
    expect(p.currentSegment).toBe("Segment 1/1: 2025-01-02 14:30 to 2025-01-02 15:30")
  })
})
