/** KTRDR's gap-analysis answers built from analyzeGaps: modes, recommendations, summaries, the no-data answer. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { expectedBarTimes } from "../../src/domain/BarSchedule.ts"
import { analyzeGaps, type Gap, type GapClass } from "../../src/domain/GapAnalysis.ts"
import {
  batchReport,
  buildReport,
  dayContext,
  isoSeconds,
  MAX_LISTED_GAPS,
  overallSummary,
  recommendationsFor,
  visibleGaps,
  type GapMode,
  type ReportInput
} from "../../src/domain/gapReport.ts"
import { timeframeOf } from "../../src/domain/Timeframe.ts"

const d1 = timeframeOf("1d")
const h1 = timeframeOf("1h")
const Z = (iso: string) => Date.parse(iso)
const NY = "America/New_York"

const gapOf = (
  classification: GapClass,
  barsMissing = classification === "unexpected" || classification === "not_loaded" ? 1 : 0
): Gap => ({
  start: 0,
  end: 3_600_000,
  classification,
  barsMissing,
  sessions: barsMissing > 0 ? 1 : 0,
  durationHours: 1,
  note: classification
})
const ALL: ReadonlyArray<Gap> =
  (["unexpected", "market_closure", "expected_holiday", "expected_trading_hours", "expected_weekend"] as const).map((
    c
  ) => gapOf(c))

/** Q1 2024 daily AAPL: 61 NYSE sessions; `drop` removes stored bars by day. */
const q1 = (drop: ReadonlyArray<string> = [], over: Partial<ReportInput> = {}): ReportInput => {
  const from = Z("2024-01-01T00:00:00Z"), to = Z("2024-04-01T00:00:00Z")
  const stored = expectedBarTimes("us-equity", d1, "regular", from, to).filter((t) =>
    !drop.includes(isoSeconds(t).slice(0, 10))
  )
  return {
    symbol: "AAPL",
    timeframe: d1,
    from,
    to,
    tradingDays: 61,
    metadata: null,
    timeZone: NY,
    analysis: analyzeGaps({
      stored,
      calendarId: "us-equity",
      timeframe: d1,
      hours: "regular",
      from,
      to,
      now: Z("2025-01-01T00:00:00Z"),
      includeExpected: true
    }),
    noData: false,
    mode: "verbose",
    includeExpected: true,
    ...over
  }
}

describe("modes", () => {
  const classes = (mode: GapMode, includeExpected: boolean) =>
    visibleGaps(ALL, mode, includeExpected).map((g) => g.classification)

  it("normal lists nothing, extended the missing-data gaps, verbose everything only with include_expected", () => {
    expect(classes("normal", true)).toEqual([])
    expect(classes("normal", false)).toEqual([])
    expect(classes("extended", false)).toEqual(["unexpected", "market_closure"])
    expect(classes("extended", true)).toEqual(["unexpected", "market_closure"])
    expect(classes("verbose", false)).toEqual(["unexpected", "market_closure"])
    expect(classes("verbose", true)).toEqual(ALL.map((g) => g.classification))
  })
})

describe("recommendations (KTRDR's rules)", () => {
  it("tiers at 99 / 95 / 90", () => {
    expect(recommendationsFor(99, [], false)).toEqual(["Excellent data completeness - no action needed"])
    expect(recommendationsFor(98.99, [], false)).toEqual(["Good data completeness - monitor for trends"])
    expect(recommendationsFor(95, [], false)).toEqual(["Good data completeness - monitor for trends"])
    expect(recommendationsFor(90, [], false)).toEqual([
      "Acceptable data completeness - consider improving data collection"
    ])
    expect(recommendationsFor(89.99, [], false)).toEqual(["Poor data completeness - immediate attention required"])
  })

  it("counts unexpected gaps, says what is not loaded (never a closure), flags more than five holidays", () => {
    expect(recommendationsFor(100, [gapOf("unexpected")], false)[1]).toBe("1 unexpected gap requires investigation")
    expect(recommendationsFor(100, [gapOf("unexpected"), gapOf("unexpected"), gapOf("not_loaded", 40)], false).slice(1))
      .toEqual([
        "2 unexpected gaps require investigation",
        "40 bars of the period lie outside the stored range (not loaded, not counted as missing) - " +
        "load them (backfill or full mode) to analyse them"
      ])
    const holidays = (n: number) => Array.from({ length: n }, () => gapOf("expected_holiday"))
    expect(recommendationsFor(100, holidays(5), false)).toHaveLength(1)
    expect(recommendationsFor(100, holidays(6), false)[1]).toBe("Many holiday gaps detected - verify trading calendar")
  })

  it("no data overrides everything", () => {
    expect(recommendationsFor(0, [gapOf("unexpected")], true)).toEqual([
      "No data available: No data found",
      "Complete data collection needed"
    ])
  })
})

describe("day_context", () => {
  it("names exchange weekdays, flags Friday and Monday, joins spans", () => {
    expect(dayContext(Z("2024-01-05T15:00:00Z"), Z("2024-01-05T17:00:00Z"), NY)).toBe("Friday (pre-weekend)")
    expect(dayContext(Z("2024-01-08T15:00:00Z"), Z("2024-01-08T17:00:00Z"), NY)).toBe("Monday (post-weekend)")
    expect(dayContext(Z("2024-01-10T15:00:00Z"), Z("2024-01-10T17:00:00Z"), NY)).toBe("Wednesday")
    expect(dayContext(Z("2024-01-05T21:00:00Z"), Z("2024-01-08T14:30:00Z"), NY)).toBe("Friday-Monday")
    // 02:00Z Thursday is still Wednesday evening in New York; an exclusive midnight end stays on the day before.
    expect(dayContext(Z("2024-01-11T02:00:00Z"), Z("2024-01-11T03:00:00Z"), NY)).toBe("Wednesday")
    expect(dayContext(Z("2024-01-10T00:00:00Z"), Z("2024-01-11T00:00:00Z"), "UTC")).toBe("Wednesday")
  })
})

describe("buildReport", () => {
  it("complete data: 100 %, nothing missing, the closed spans explained", () => {
    const r = buildReport(q1())
    expect(r.summary).toEqual({
      expected_bars: 61,
      actual_bars: 61,
      total_missing: 0,
      data_completeness_pct: 100,
      unscheduled_bars: 0,
      missing_breakdown: {
        unexpected: 0,
        not_loaded: 0,
        expected_weekend: 0,
        expected_trading_hours: 0,
        expected_holiday: 0,
        market_closure: 0
      },
      closed_spans: { expected_weekend: 10, expected_trading_hours: 0, expected_holiday: 3 }
    })
    expect(r.gaps).toHaveLength(13)
    expect(r.analysis_period).toEqual({
      start: "2024-01-01T00:00:00Z",
      end: "2024-04-01T00:00:00Z",
      total_duration_hours: 2184,
      trading_days_in_period: 61
    })
    expect(r.recommendations).toEqual(["Excellent data completeness - no action needed"])
  })

  it("a missing day is one unexpected gap with KTRDR's wire fields", () => {
    const r = buildReport(q1(["2024-01-10"], { mode: "extended" }))
    expect(r.gaps).toEqual([{
      start_time: "2024-01-10T14:30:00Z",
      end_time: "2024-01-10T21:00:00Z",
      classification: "unexpected",
      bars_missing: 1,
      duration_hours: 6.5,
      day_context: "Wednesday",
      note: "Unexpected gap (6.5h) during trading period - needs investigation"
    }])
    expect(r.summary.data_completeness_pct).toBe(98.36)
    expect(r.recommendations).toEqual([
      "Good data completeness - monitor for trends",
      "1 unexpected gap requires investigation"
    ])
  })

  it("no data: one not-loaded hole over every expected bar, 0 % complete, KTRDR's two recommendations", () => {
    const input = q1([], { noData: true, mode: "extended" })
    const from = input.from, to = input.to
    const r = buildReport({
      ...input,
      analysis: analyzeGaps({
        stored: [],
        calendarId: "us-equity",
        timeframe: d1,
        hours: "regular",
        from,
        to,
        now: Z("2025-01-01T00:00:00Z"),
        includeExpected: true
      })
    })
    expect(r.summary).toMatchObject({
      expected_bars: 61,
      actual_bars: 0,
      total_missing: 0,
      data_completeness_pct: 0,
      missing_breakdown: { unexpected: 0, not_loaded: 61, market_closure: 0 }
    })
    expect(r.gaps).toEqual([
      expect.objectContaining({
        start_time: "2024-01-02T14:30:00Z",
        end_time: "2024-03-28T20:00:00Z",
        classification: "not_loaded",
        bars_missing: 61
      })
    ])
    expect(r.recommendations).toEqual(["No data available: No data found", "Complete data collection needed"])
  })

  it("lists at most MAX_LISTED_GAPS gaps and says so", () => {
    const many = Array.from(
      { length: MAX_LISTED_GAPS + 5 },
      (_, i) => ({ ...gapOf("unexpected"), start: i * 7_200_000, end: i * 7_200_000 + 3_600_000 })
    )
    const base = q1()
    const r = buildReport({ ...base, mode: "extended", analysis: { ...base.analysis, gaps: many } })
    expect(r.gaps).toHaveLength(MAX_LISTED_GAPS)
    expect(r.recommendations.at(-1)).toBe(
      `Only the first ${MAX_LISTED_GAPS} of ${MAX_LISTED_GAPS + 5} gaps are listed - narrow start_date/end_date`
    )
    // The summary still counts them all.
    expect(r.summary.missing_breakdown.unexpected).toBe(MAX_LISTED_GAPS + 5)
  })

  it(
    "property: the breakdown adds up to total_missing = expected − actual − not loaded, " +
      "and completeness is actual ÷ (expected − not loaded)",
    () => {
      const from = Z("2024-03-04T00:00:00Z"), to = Z("2024-03-16T00:00:00Z")
      const all = expectedBarTimes("us-equity", h1, "regular", from, to)
      fc.assert(
        fc.property(fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }), (keep) => {
          const stored = all.filter((_, i) => keep[i])
          const analysis = analyzeGaps({
            stored,
            calendarId: "us-equity",
            timeframe: h1,
            hours: "regular",
            from,
            to,
            now: to,
            includeExpected: true
          })
          const r = buildReport({ ...q1(), timeframe: h1, from, to, analysis, mode: "verbose", includeExpected: false })
          const b = r.summary.missing_breakdown
          expect(b.unexpected + b.market_closure + b.expected_holiday + b.expected_weekend + b.expected_trading_hours)
            .toBe(r.summary.total_missing)
          const outside = all.filter((t, i) =>
            !keep[i] && (stored.length === 0 || t < stored[0]! || t > stored.at(-1)!)
          )
          expect(b.not_loaded).toBe(outside.length)
          expect(r.summary.total_missing + b.not_loaded).toBe(all.length - stored.length)
          const loaded = all.length - outside.length
          const pct = stored.length === 0 ? 0 : loaded === 0 ? 100 : (stored.length / loaded) * 100
          if (stored.length > 0) expect(Math.abs(r.summary.data_completeness_pct - pct)).toBeLessThanOrEqual(0.005001)
          // Without include_expected, every listed gap is missing or unloaded data, holding every absent bar.
          expect(r.gaps.reduce((n, g) => n + g.bars_missing, 0)).toBe(r.summary.total_missing + b.not_loaded)
        }),
        { numRuns: 100 }
      )
    }
  )
})

describe("batch", () => {
  it("totals over the successful symbols; {} when none succeeded", () => {
    const a = buildReport(q1(["2024-01-10"]))
    const b = buildReport(q1())
    expect(overallSummary([a, b])).toEqual({
      total_symbols: 2,
      total_expected_bars: 122,
      total_actual_bars: 121,
      total_missing_bars: 1,
      average_completeness_pct: 99.18,
      overall_completeness_pct: 99.18,
      aggregated_missing_breakdown: {
        unexpected: 1,
        not_loaded: 0,
        expected_weekend: 0,
        expected_trading_hours: 0,
        expected_holiday: 0,
        market_closure: 0
      }
    })
    expect(overallSummary([])).toEqual({})
    const report = batchReport(
      {
        symbolsRequested: 3,
        timeframe: "1d",
        from: Z("2024-01-01T00:00:00Z"),
        to: Z("2024-04-01T00:00:00Z"),
        mode: "normal",
        includeExpected: false
      },
      [a, b],
      [{ symbol: "x/y", error: "bad" }]
    )
    expect(report.request_summary).toEqual({
      symbols_requested: 3,
      symbols_successful: 2,
      symbols_failed: 1,
      timeframe: "1d",
      analysis_period: "2024-01-01T00:00:00Z to 2024-04-01T00:00:00Z",
      mode: "normal",
      include_expected: false
    })
  })
})
