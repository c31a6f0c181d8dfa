/**
 * Quality checks calibrated on realistic data: no false price outliers on the simulator's bars (every
 * instrument kind, bar sizes from 1 min to 1 day, windows the size DataManager fetches) nor on KTRDR's
 * own data files; a real bad print is still caught, named by time, with its rule.
 */
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { Bar } from "../../src/domain/Bar.ts"
import { parseBarCsv } from "../../src/domain/barCsv.ts"
import { parseBarSize, parseDuration } from "../../src/domain/IbHistoricalRules.ts"
import { checkQuality } from "../../src/domain/QualityCheck.ts"
import { addQuality, emptyQuality, qualityLines } from "../../src/domain/qualitySummary.ts"
import { generateBars } from "../../src/sim/historicalBars.ts"
import { spot } from "./planSupport.ts"
import { barsOf } from "../../src/domain/barSeries.ts"

const domainBars = (bars: ReturnType<typeof generateBars>["bars"]): Array<Bar> =>
  bars.map((b) => ({
    time: b.day ? Date.parse(`${b.day}T00:00:00Z`) : b.t,
    open: b.o,
    high: b.h,
    low: b.l,
    close: b.c,
    volume: b.v < 0 ? null : b.v,
    wap: null,
    count: null
  }))

/** Bar size and the window one request of DataManager's planner covers for it. */
const SIZES = [
  ["1 min", "1 D"],
  ["5 mins", "1 W"],
  ["30 mins", "1 M"],
  ["1 hour", "1 M"],
  ["1 day", "1 Y"]
] as const

const outliers = (bars: ReadonlyArray<Bar>, volumeReported: boolean) =>
  checkQuality(bars, { volumeReported }).issues.filter((i) => i.type === "price_outliers")

describe("quality calibration", () => {
  it("no price outliers in the simulator's bars: stocks, index, forex, any bar size (property)", () => {
    const symbols = ["AAPL", "IBM", "SPY", "SPX", "EUR"] as const
    let checked = 0
    fc.assert(
      fc.property(
        fc.constantFrom(...symbols),
        fc.constantFrom(...SIZES),
        fc.integer({ min: Date.parse("2015-01-05T00:00:00Z") / 1000, max: Date.parse("2025-11-28T00:00:00Z") / 1000 }),
        fc.boolean(),
        (symbol, [size, window], endS, useRTH) => {
          const inst = spot(symbol)
          const answer = generateBars({
            inst,
            endMs: endS * 1000,
            nowMs: Date.now(),
            duration: parseDuration(window)!,
            bar: parseBarSize(size)!,
            useRTH,
            whatToShow: inst.whatToShow[0]!
          })
          const bars = domainBars(answer.bars)
          checked += bars.length
          const found = outliers(bars, inst.secType === "STK")
          expect(found.map((i) => `${symbol} ${size} ${i.column}: ${i.examples.map((e) => e.detail)}`)).toEqual([])
        }
      ),
      { numRuns: 120 }
    )
    expect(checked).toBeGreaterThan(20_000)
  }, 120_000)

  /**
   * KTRDR's MSFT 1-hour file (2013–2025) has two real bad prints, both lows of one bar far below everything
   * around and back within the bar, on ordinary volume: 2014-06-18 40.34 (bars around 41.7–41.9) and
   * 2016-11-17 54.27 (around 58.8–59.6, an 8 % hole MSFT never traded). KTRDR's synthetic DEMO file has
   * two closes that jump ~50 % for one day and come straight back (179.77 between 116 and 114; 90.27
   * between 132 and 132). Those are found; nothing else is.
   */
  const TRUE_PRINTS: Record<string, ReadonlyArray<string>> = {
    MSFT_1h: ["low 2014-06-18T03:00:00.000Z", "low 2016-11-17T00:30:00.000Z"],
    DEMO_1d: ["close 2023-01-31T00:00:00.000Z", "close 2023-03-02T00:00:00.000Z"]
  }

  it("KTRDR's own data files: no false price outliers, the two real bad prints found", async () => {
    const dir = join(import.meta.dirname, "../fixtures/ktrdr")
    for (const file of ["AAPL_1d", "AAPL_1h", "AAPL_5m", "EURUSD_1h", "MSFT_1h", "MSFT_1m", "DEMO_1d"]) {
      const parsed = parseBarCsv(await readFile(join(dir, `${file}.csv`)))
      expect(Either.isRight(parsed), file).toBe(true)
      if (Either.isRight(parsed)) {
        const bars = barsOf(parsed.right).filter((b) => Number.isFinite(b.close))
        expect(bars.length, file).toBeGreaterThan(5)
        const found = outliers(bars, !file.startsWith("EURUSD")).flatMap((i) =>
          i.examples.map((e) => `${i.column} ${new Date(e.time).toISOString()}`)
        )
        expect(found, file).toEqual(TRUE_PRINTS[file] ?? [])
      }
    }
  })

  it("a bad print is caught: which bar, by how much, by what rule — in the load summary's warning too", () => {
    const inst = spot("AAPL")
    const answer = generateBars({
      inst,
      endMs: Date.parse("2024-03-08T21:00:00Z"),
      nowMs: Date.now(),
      duration: parseDuration("1 M")!,
      bar: parseBarSize("1 hour")!,
      useRTH: true,
      whatToShow: "TRADES"
    })
    const clean = domainBars(answer.bars)
    const k = 40
    const bad = clean.map((b, i) => (i === k ? { ...b, close: b.close * 1.08, high: b.close * 1.08 } : b))
    const report = checkQuality(bad)
    const close = report.issues.find((i) => i.type === "price_outliers" && i.column === "close")
    expect(close).toMatchObject({ count: 1, metadata: { threshold: 6 } })
    expect(close!.examples.map((e) => e.time)).toEqual([clean[k]!.time])
    expect(close!.threshold).toMatch(/more than 6 robust σ .* moves back on the next bar/)
    // A trend is not an outlier: the same bars shifted up 30% over the month stay clean.
    const trend = clean.map((b, i) => {
      const f = 1 + (0.3 * i) / clean.length
      return { ...b, open: b.open * f, high: b.high * f, low: b.low * f, close: b.close * f }
    })
    expect(outliers(trend, true)).toEqual([])
    const line = qualityLines(addQuality(emptyQuality, report)).find((l) => l.includes("price outliers"))
    expect(line).toContain(new Date(clean[k]!.time).toISOString())
    expect(line).toMatch(/rule: a close that moves more than 6 robust σ/)
  })
})
