/** The page's pure parts in Node: SSE framing, gap → marker placement, exchange-time offsets. */
import { describe, expect, it } from "vitest"
import { tickLabel, TickMarkType } from "../../src/chart/axis.ts"
import { countGaps, gapMarkers, type ApiGap } from "../../src/chart/gaps.ts"
import { sseParser } from "../../src/chart/sse.ts"
import { chartTime, parseUtc, validZone, zoneOffset } from "../../src/chart/time.ts"

describe("sseParser", () => {
  const stream = "id: 0\nevent: progress\ndata: {\"a\":1}\n\n: keep-alive\n\n" +
    "id: 1\r\nevent: end\r\ndata: line1\r\ndata: line2\r\n\r\ndata: plain\n\n"

  it("parses the server's frames, skipping comments and joining multi-line data", () => {
    expect(sseParser()(stream)).toEqual([
      { event: "progress", data: "{\"a\":1}", id: "0" },
      { event: "end", data: "line1\nline2", id: "1" },
      { event: "message", data: "plain", id: "1" }
    ])
  })

  it("gives the same messages however the stream is chunked (including a split \\r\\n)", () => {
    const whole = sseParser()(stream)
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const parse = sseParser()
      const got = []
      for (let i = 0; i < stream.length; i += size) got.push(...parse(stream.slice(i, i + size)))
      expect(got, `chunks of ${size}`).toEqual(whole)
    }
  })

  it("keeps an unfinished frame until its blank line arrives", () => {
    const parse = sseParser()
    expect(parse("event: end\ndata: {}\n")).toEqual([])
    expect(parse("\n")).toEqual([{ event: "end", data: "{}", id: null }])
  })
})

describe("gapMarkers", () => {
  const hour = 3_600_000
  const t0 = Date.parse("2025-01-02T14:30:00Z")
  const bars = [0, 1, 2, 5, 6, 30, 31].map((h) => t0 + h * hour)
  const gap = (start: number, end: number, classification: string, bars_missing = 0): ApiGap => ({
    start_time: new Date(t0 + start * hour).toISOString().replace(".000", ""),
    end_time: new Date(t0 + end * hour).toISOString().replace(".000", ""),
    classification,
    bars_missing,
    duration_hours: end - start
  })

  it("puts each gap on the first bar after it, or the last bar for a trailing gap, sorted by bar", () => {
    const m = gapMarkers([
      gap(32, 40, "expected_trading_hours"),
      gap(7, 30, "expected_trading_hours"),
      gap(3, 5, "unexpected", 2)
    ], bars)
    expect(m.map((x) => [x.barIndex, x.kind, x.text])).toEqual([
      [3, "unexpected", "gap: 2 missing"],
      [5, "expected", ""],
      [6, "expected", ""]
    ])
  })

  it("classifies closures apart, counts missing bars of the notable gaps only, never marks unloaded history", () => {
    const gaps = [
      gap(3, 5, "unexpected", 2),
      gap(7, 30, "market_closure", 9),
      gap(7, 30, "expected_weekend", 0),
      gap(0, 2, "not_loaded", 40)
    ]
    expect(gapMarkers(gaps, bars).map((x) => x.kind).sort()).toEqual(["closure", "expected", "unexpected"])
    expect(countGaps(gaps)).toEqual({ unexpected: 1, closure: 1, expected: 1, missingBars: 11, notLoadedBars: 40 })
    expect(gapMarkers(gaps, [])).toEqual([])
  })

  it("leaves expected gaps unmarked when there are too many, never the unexpected ones", () => {
    const nights = Array.from({ length: 5 }, (_, i) => gap(i, i + 1, "expected_trading_hours"))
    const gaps = [...nights, gap(3, 5, "unexpected", 2)]
    expect(gapMarkers(gaps, bars, 5)).toHaveLength(6)
    expect(gapMarkers(gaps, bars, 4).map((x) => x.kind)).toEqual(["unexpected"])
  })
})

describe("exchange time", () => {
  it("reads the API's UTC strings, with or without a zone", () => {
    expect(parseUtc("2025-01-02T14:30:00Z")).toBe(Date.UTC(2025, 0, 2, 14, 30))
    expect(parseUtc("2025-01-02T14:30:00")).toBe(Date.UTC(2025, 0, 2, 14, 30))
    expect(parseUtc("2025-01-02T14:30:00+00:00")).toBe(Date.UTC(2025, 0, 2, 14, 30))
  })

  it("follows the zone's offset across DST changes (New York: −5 h in winter, −4 h in summer)", () => {
    const ny = zoneOffset("America/New_York")
    expect(ny(Date.UTC(2025, 0, 15, 15))).toBe(-5 * 3_600_000)
    expect(ny(Date.UTC(2025, 6, 15, 15))).toBe(-4 * 3_600_000)
    // 2025-03-09 07:00Z is 02:00 EST → 03:00 EDT.
    expect(ny(Date.UTC(2025, 2, 9, 6, 59))).toBe(-5 * 3_600_000)
    expect(ny(Date.UTC(2025, 2, 9, 7, 0))).toBe(-4 * 3_600_000)
    expect(zoneOffset("Asia/Kolkata")(Date.UTC(2025, 0, 1))).toBe(5.5 * 3_600_000)
  })

  it("maps bar times to chart seconds in UTC or exchange mode", () => {
    const t = Date.UTC(2025, 0, 2, 14, 30)
    const ny = zoneOffset("America/New_York")
    expect(chartTime("utc", ny)(t)).toBe(t / 1000)
    expect(chartTime("exchange", ny)(t)).toBe(Date.UTC(2025, 0, 2, 9, 30) / 1000)
    expect(chartTime("exchange", null)(t)).toBe(t / 1000)
    expect(validZone("America/New_York")).toBe(true)
    expect(validZone("Not/AZone")).toBe(false)
    expect(validZone(null)).toBe(false)
  })
})

describe("time-axis labels", () => {
  it("a session's first bar shows its day, not its opening time; other ticks keep hours, days, months", () => {
    const t = (iso: string) => Date.parse(iso) / 1000
    const open13 = t("2025-01-13T09:30:00Z") // exchange wall clock, as the chart sees it
    const label = tickLabel(new Set([open13]))
    expect(label(open13 as never, TickMarkType.Time)).toBe("13 Jan")
    expect(label(t("2025-01-13T12:00:00Z") as never, TickMarkType.Time)).toBe("12:00")
    expect(label(t("2025-01-13T12:00:05Z") as never, TickMarkType.TimeWithSeconds)).toBe("12:00:05")
    expect(label(t("2025-01-14T09:30:00Z") as never, TickMarkType.DayOfMonth)).toBe("14")
    expect(label(t("2025-02-03T09:30:00Z") as never, TickMarkType.Month)).toBe("Feb")
    expect(label(t("2026-01-02T09:30:00Z") as never, TickMarkType.Year)).toBe("2026")
  })
})
