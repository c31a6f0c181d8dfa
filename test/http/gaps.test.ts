/**
 * /api/v1/gap-analysis against a real server: data loaded from the simulator through /data/load, holes
 * made by deleting CSV rows, analysis that never asks the gateway and never writes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { copyFile, readdir, readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { apiClient, raw, startServer, tempDir } from "./support.ts"

const json = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

const load = (baseUrl: string, symbol: string, timeframe: string, start: string, end: string) =>
  Effect.gen(function*() {
    const r = yield* raw(
      baseUrl,
      "/api/v1/data/load",
      json({ symbol, timeframe, mode: "full", start_date: start, end_date: end })
    )
    expect(r.status, r.text).toBe(200)
    expect(r.json.data.status).toBe("success")
    return r.json.data
  })

/** Removes the CSV rows whose timestamp starts with one of the prefixes; returns how many went. */
const deleteRows = (file: string, prefixes: ReadonlyArray<string>) =>
  Effect.promise(async () => {
    const lines = (await readFile(file, "utf8")).split("\n")
    const kept = lines.filter((l, i) => i === 0 || !prefixes.some((p) => l.startsWith(p)))
    await writeFile(file, kept.join("\n"))
    return lines.length - kept.length
  })

const ibRequests = (sim: GatewaySimulator) => {
  const r = sim.stats().requests
  return r.historical + r.contractDetails + r.headTimestamp
}

const gaps = (baseUrl: string, path: string, query: string) =>
  raw(baseUrl, `/api/v1/gap-analysis/data/${path}/gaps?${query}`)

// Q1 2024 on NYSE: 21 + 20 + 20 sessions (MLK 01-15, Presidents 02-19, Good Friday 03-29 closed).
const Q1 = "start_date=2024-01-01&end_date=2024-04-01"

describe("gap analysis over HTTP", () => {
  it.live(
    "daily: complete after a load; deleted rows become one unexpected gap; " +
      "weekends and holidays are expected",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer()
        yield* load(s.baseUrl, "AAPL", "1d", "2024-01-01", "2024-04-01")
        const file = join(s.dataDir, "AAPL_1d.csv")
        const ib = ibRequests(s.sim)

        const full = (yield* gaps(s.baseUrl, "AAPL/1d", Q1)).json
        expect(full.success).toBe(true)
        expect(full.data).toMatchObject({
          symbol: "AAPL",
          timeframe: "1d",
          analysis_period: {
            start: "2024-01-01T00:00:00Z",
            end: "2024-04-01T00:00:00Z",
            total_duration_hours: 91 * 24,
            trading_days_in_period: 61
          },
          trading_metadata: {
            calendar_id: "us-equity",
            timezone: "America/New_York",
            asset_type: "STK",
            hours: "regular",
            source: "symbol_cache"
          },
          summary: {
            expected_bars: 61,
            actual_bars: 61,
            total_missing: 0,
            data_completeness_pct: 100,
            unscheduled_bars: 0
          },
          gaps: [],
          recommendations: ["Excellent data completeness - no action needed"]
        })

        // Tuesday and Wednesday 2024-02-06/07 go missing.
        expect(yield* deleteRows(file, ["2024-02-06", "2024-02-07"])).toBe(2)
        const before = yield* Effect.promise(() => readFile(file, "utf8"))
        const extended = (yield* gaps(s.baseUrl, "AAPL/1d", `${Q1}&mode=extended`)).json.data
        expect(extended.summary).toEqual({
          expected_bars: 61,
          actual_bars: 59,
          total_missing: 2,
          data_completeness_pct: 96.72,
          unscheduled_bars: 0,
          missing_breakdown: {
            unexpected: 2,
            not_loaded: 0,
            expected_weekend: 0,
            expected_trading_hours: 0,
            expected_holiday: 0,
            market_closure: 0
          },
          closed_spans: { expected_weekend: 10, expected_trading_hours: 0, expected_holiday: 3 }
        })
        expect(extended.gaps).toEqual([{
          start_time: "2024-02-06T14:30:00Z",
          end_time: "2024-02-07T21:00:00Z",
          classification: "unexpected",
          bars_missing: 2,
          duration_hours: 30.5,
          day_context: "Tuesday-Wednesday",
          note: "Unexpected gap (30.5h) during trading period - needs investigation"
        }])
        expect(extended.recommendations).toEqual([
          "Good data completeness - monitor for trends",
          "1 unexpected gap requires investigation"
        ])

        const verbose = (yield* gaps(s.baseUrl, "AAPL/1d", `${Q1}&mode=verbose&include_expected=true`)).json.data
        const byClass = (c: string) => verbose.gaps.filter((g: { classification: string }) => g.classification === c)
        expect(byClass("unexpected")).toEqual(extended.gaps)
        expect(
          byClass("expected_holiday").map((g: { start_time: string; end_time: string }) => [g.start_time, g.end_time])
        ).toEqual([
          ["2024-01-12T21:00:00Z", "2024-01-16T14:30:00Z"], // MLK day
          ["2024-02-16T21:00:00Z", "2024-02-20T14:30:00Z"], // Presidents' day
          ["2024-03-28T20:00:00Z", "2024-04-01T00:00:00Z"] // Good Friday; the period ends before Monday's open
        ])
        expect(byClass("expected_weekend")).toHaveLength(10)
        expect(byClass("expected_weekend")[0]).toMatchObject({
          start_time: "2024-01-05T21:00:00Z",
          end_time: "2024-01-08T14:30:00Z",
          bars_missing: 0,
          day_context: "Friday-Monday",
          note: "Weekend gap for 1d data - normal market closure"
        })
        // Sorted by time; the report's summary does not depend on the mode.
        const starts = verbose.gaps.map((g: { start_time: string }) => g.start_time)
        expect(starts).toEqual([...starts].sort())
        expect(verbose.summary).toEqual(extended.summary)

        // Without include_expected, verbose lists what extended lists; normal lists nothing.
        expect((yield* gaps(s.baseUrl, "AAPL/1d", `${Q1}&mode=verbose`)).json.data.gaps).toEqual(extended.gaps)
        expect((yield* gaps(s.baseUrl, "AAPL/1d", `${Q1}&mode=extended&include_expected=true`)).json.data.gaps).toEqual(
          extended.gaps
        )
        expect((yield* gaps(s.baseUrl, "AAPL/1d", Q1)).json.data.gaps).toEqual([])

        // Analysis reads: the gateway was never asked and the file is as it was.
        expect(ibRequests(s.sim)).toBe(ib)
        expect(yield* Effect.promise(() => readFile(file, "utf8"))).toBe(before)
      }).pipe(Effect.scoped)
  )

  it.live(
    "hourly: nights are expected_trading_hours, a deleted midday run is unexpected, " +
      "a deleted last week is not loaded (never a market closure)",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer()
        yield* load(s.baseUrl, "AAPL", "1h", "2024-03-04", "2024-03-16")
        const file = join(s.dataDir, "AAPL_1h.csv")
        // Wednesday 2024-03-06 11:00 and 12:00 ET (EST), then the whole week after the DST switch.
        const head = (yield* Effect.promise(() => readFile(file, "utf8"))).split("\n").slice(0, 3).join("\n")
        const stamp = head.split("\n")[1]!.includes("T")
          ? (d: string, h: string) => `${d}T${h}`
          : (d: string, h: string) => `${d} ${h}`
        expect(yield* deleteRows(file, [stamp("2024-03-06", "16:00"), stamp("2024-03-06", "17:00")])).toBe(2)
        expect(yield* deleteRows(file, ["2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-15"])).toBe(35)

        const week = "start_date=2024-03-04&end_date=2024-03-09"
        const r = (yield* gaps(s.baseUrl, "AAPL/1h", `${week}&mode=verbose&include_expected=true`)).json.data
        expect(r.summary).toMatchObject({
          expected_bars: 35,
          actual_bars: 33,
          total_missing: 2,
          data_completeness_pct: 94.29
        })
        expect(r.gaps.filter((g: { classification: string }) => g.classification === "unexpected")).toEqual([{
          start_time: "2024-03-06T16:00:00Z",
          end_time: "2024-03-06T18:00:00Z",
          classification: "unexpected",
          bars_missing: 2,
          duration_hours: 2,
          day_context: "Wednesday",
          note: "Unexpected gap (2.0h) during trading period - needs investigation"
        }])
        const nights = r.gaps.filter((g: { classification: string }) => g.classification === "expected_trading_hours")
        // Four nights between the five sessions, and Friday evening up to the period's end.
        expect(nights.map((g: { start_time: string }) => g.start_time)).toEqual([
          "2024-03-04T21:00:00Z",
          "2024-03-05T21:00:00Z",
          "2024-03-06T21:00:00Z",
          "2024-03-07T21:00:00Z",
          "2024-03-08T21:00:00Z"
        ])
        expect(nights[0]).toMatchObject({
          end_time: "2024-03-05T14:30:00Z",
          duration_hours: 17.5,
          day_context: "Monday-Tuesday"
        })
        expect(r.recommendations).toEqual([
          "Acceptable data completeness - consider improving data collection",
          "1 unexpected gap requires investigation"
        ])

        // Two weeks: the second (after the DST switch, 13:30Z opens) lies after the last stored bar now: one
        // run of 35 bars that are simply not loaded — not a closure, not counted against completeness.
        const two =
          (yield* gaps(s.baseUrl, "AAPL/1h", "start_date=2024-03-04&end_date=2024-03-16&mode=extended")).json.data
        expect(two.gaps).toHaveLength(2)
        expect(two.gaps[1]).toMatchObject({
          start_time: "2024-03-11T13:30:00Z",
          end_time: "2024-03-15T20:00:00Z",
          classification: "not_loaded",
          bars_missing: 35,
          day_context: "Monday-Friday"
        })
        expect(two.summary).toMatchObject({ total_missing: 2, data_completeness_pct: 94.29 })
        expect(two.summary.missing_breakdown).toMatchObject({ unexpected: 2, not_loaded: 35, market_closure: 0 })
        expect(two.recommendations).toEqual([
          "Acceptable data completeness - consider improving data collection",
          "1 unexpected gap requires investigation",
          "35 bars of the period lie outside the stored range (not loaded, not counted as missing) - " +
          "load them (backfill or full mode) to analyse them"
        ])
      }).pipe(Effect.scoped)
  )

  it.live("a series with nothing stored: KTRDR's no-data answer, no file created, no IB request", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const r = yield* gaps(s.baseUrl, "MSFT/1d", `${Q1}&mode=extended`)
      expect(r.status).toBe(200)
      expect(r.json.data).toMatchObject({
        symbol: "MSFT",
        trading_metadata: { calendar_id: "us-equity", asset_type: "STK", source: "symbol_rules", head_timestamp: null },
        summary: {
          expected_bars: 61,
          actual_bars: 0,
          total_missing: 0,
          data_completeness_pct: 0,
          missing_breakdown: {
            unexpected: 0,
            not_loaded: 61,
            expected_weekend: 0,
            expected_trading_hours: 0,
            expected_holiday: 0,
            market_closure: 0
          }
        },
        gaps: [{
          start_time: "2024-01-02T14:30:00Z",
          end_time: "2024-03-28T20:00:00Z",
          classification: "not_loaded",
          bars_missing: 61
        }],
        recommendations: ["No data available: No data found", "Complete data collection needed"]
      })
      // A forex pair by its file key gets the forex calendar without asking IB: Sunday-evening opens, no US holidays.
      const fx = (yield* gaps(s.baseUrl, "EURUSD/1d", "start_date=2024-01-15&end_date=2024-01-20")).json.data
      expect(fx).toMatchObject({
        symbol: "EUR.USD",
        trading_metadata: { calendar_id: "forex", asset_type: "CASH" },
        summary: { expected_bars: 5 }
      })
      expect(ibRequests(s.sim)).toBe(0)
      expect(yield* Effect.promise(() => readdir(s.dataDir))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("summary, defaults and health", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      yield* load(s.baseUrl, "AAPL", "1d", "2024-01-01", "2024-04-01")
      const summary = (yield* raw(s.baseUrl, `/api/v1/gap-analysis/data/AAPL/1d/summary?${Q1}`)).json
      expect(Object.keys(summary.data).sort()).toEqual([
        "analysis_period",
        "recommendations",
        "summary",
        "symbol",
        "timeframe"
      ])
      expect(summary.data.summary).toMatchObject({ expected_bars: 61, actual_bars: 61 })

      // No dates: the 90 days before now (KTRDR's CLI default); the stored Q1 2024 is long before, so all is missing.
      const t0 = Date.now()
      const dflt = (yield* raw(s.baseUrl, "/api/v1/gap-analysis/data/AAPL/1d/gaps")).json.data
      const end = Date.parse(dflt.analysis_period.end)
      expect(Math.abs(end - t0)).toBeLessThan(60_000)
      expect(end - Date.parse(dflt.analysis_period.start)).toBe(90 * 86_400_000)
      expect(dflt.summary.actual_bars).toBe(0)
      expect(dflt.summary.expected_bars).toBeGreaterThan(55)
      // Only a start: the end is now.
      const since = (yield* raw(s.baseUrl, "/api/v1/gap-analysis/data/AAPL/1d/summary?start_date=2024-03-01")).json.data
      expect(Math.abs(Date.parse(since.analysis_period.end) - t0)).toBeLessThan(60_000)

      const health = (yield* raw(s.baseUrl, "/api/v1/gap-analysis/health")).json
      expect(health).toMatchObject({
        success: true,
        error: null,
        data: { status: "healthy", service: "gap_analysis", gap_classifier_symbols: 1, version: "1.0.0" }
      })
      expect(health.data.supported_timeframes).toContain("1w")
      expect(health.data.calendars).toEqual(["us-equity", "us-index", "cme-equity-futures", "forex"])

      // The contract is in the generated OpenAPI document, modes and all.
      const spec = (yield* raw(s.baseUrl, "/api/v1/openapi.json")).json
      expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining([
        "/api/v1/gap-analysis/data/{symbol}/{timeframe}/gaps",
        "/api/v1/gap-analysis/data/{symbol}/{timeframe}/summary",
        "/api/v1/gap-analysis/data/batch",
        "/api/v1/gap-analysis/health"
      ]))
      expect(JSON.stringify(spec)).toContain("calendar-explained")
    }).pipe(Effect.scoped))

  it.live("bad input: 400 envelopes, nothing read from IB or written", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const expect400 = (path: string, code: string, contains?: string) =>
        Effect.gen(function*() {
          const r = yield* raw(s.baseUrl, path)
          expect(r.status, `${path}: ${r.text}`).toBe(400)
          expect(r.json).toMatchObject({ success: false, data: null, error: { code } })
          if (contains) expect(r.json.error.message).toContain(contains)
        })
      const base = "/api/v1/gap-analysis/data"
      yield* expect400(`${base}/AAPL/1d/gaps?start_date=2024-13-01`, "DATA-InvalidDate", "start_date")
      yield* expect400(`${base}/AAPL/1d/gaps?start_date=yesterday`, "DATA-InvalidDate")
      yield* expect400(
        `${base}/AAPL/1d/gaps?start_date=2024-02-01&end_date=2024-02-01`,
        "DATA-InvalidDate",
        "before end_date"
      )
      yield* expect400(`${base}/AAPL/1d/gaps?start_date=2024-03-01&end_date=2024-02-01`, "DATA-InvalidDate")
      yield* expect400(`${base}/AAPL/1d/summary?start_date=2999-01-01`, "DATA-InvalidDate", "before now")
      yield* expect400(`${base}/AAPL/1s/gaps?start_date=2020-01-01&end_date=2024-01-01`, "DATA-InvalidInput", "shorter")
      yield* expect400(`${base}/AAPL/7m/gaps`, "VALIDATION_ERROR")
      yield* expect400(`${base}/AAPL/1d/gaps?mode=quick`, "VALIDATION_ERROR")
      yield* expect400(`${base}/AAPL/1d/gaps?include_expected=maybe`, "VALIDATION_ERROR")
      yield* expect400(`${base}/..%2F..%2Fetc%2Fpasswd/1d/gaps`, "DATA-InvalidSymbol")
      // (A bare `..` segment never reaches the server: the client's URL parser resolves it first.)
      yield* expect400(`${base}/..hidden/1d/gaps`, "DATA-InvalidSymbol", "path")
      yield* expect400(`${base}/.env/1d/gaps`, "DATA-InvalidSymbol", "path")
      yield* expect400(`${base}/AAPL_1d/1d/summary`, "DATA-InvalidSymbol")
      expect(ibRequests(s.sim)).toBe(0)
      expect(yield* Effect.promise(() => readdir(s.dataDir))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("batch: one bad symbol lands in errors; the others are analysed; body limits are 400s", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      yield* load(s.baseUrl, "AAPL", "1d", "2024-01-01", "2024-04-01")
      yield* deleteRows(join(s.dataDir, "AAPL_1d.csv"), ["2024-02-06"])
      const r = yield* raw(
        s.baseUrl,
        "/api/v1/gap-analysis/data/batch",
        json({
          symbols: ["AAPL", " msft ", "../etc/passwd"],
          timeframe: "1d",
          start_date: "2024-01-01",
          end_date: "2024-04-01",
          mode: "extended"
        })
      )
      expect(r.status, r.text).toBe(200)
      const d = r.json.data
      expect(d.request_summary).toEqual({
        symbols_requested: 3,
        symbols_successful: 2,
        symbols_failed: 1,
        timeframe: "1d",
        analysis_period: "2024-01-01T00:00:00Z to 2024-04-01T00:00:00Z",
        mode: "extended",
        include_expected: false
      })
      expect(d.results.map((x: { symbol: string }) => x.symbol)).toEqual(["AAPL", "MSFT"])
      expect(d.results[0].gaps).toHaveLength(1)
      expect(d.errors).toHaveLength(1)
      expect(d.errors[0].symbol).toBe("../etc/passwd")
      expect(d.errors[0].error).toContain("path separator")
      expect(d.overall_summary).toEqual({
        total_symbols: 2,
        total_expected_bars: 122,
        total_actual_bars: 60,
        total_missing_bars: 1,
        average_completeness_pct: 49.18,
        overall_completeness_pct: 49.18,
        aggregated_missing_breakdown: {
          unexpected: 1,
          not_loaded: 61,
          expected_weekend: 0,
          expected_trading_hours: 0,
          expected_holiday: 0,
          market_closure: 0
        }
      })

      // Every symbol bad: still a 200 with the errors, and KTRDR's empty overall summary.
      const bad = (yield* raw(
        s.baseUrl,
        "/api/v1/gap-analysis/data/batch",
        json({ symbols: ["a/b", ""], timeframe: "1d", start_date: "2024-01-01" })
      )).json
      expect(bad.data).toMatchObject({
        results: [],
        overall_summary: {},
        request_summary: { symbols_failed: 2, mode: "normal" }
      })

      const rejected = (body: unknown) =>
        Effect.map(
          raw(s.baseUrl, "/api/v1/gap-analysis/data/batch", json(body)),
          (x) => [x.status, x.json?.error?.code]
        )
      expect(yield* rejected({ symbols: [], timeframe: "1d" })).toEqual([400, "VALIDATION_ERROR"])
      expect(yield* rejected({ symbols: Array.from({ length: 101 }, (_, i) => `S${i}`), timeframe: "1d" })).toEqual([
        400,
        "VALIDATION_ERROR"
      ])
      expect(yield* rejected({ symbols: ["AAPL"], timeframe: "3d" })).toEqual([400, "VALIDATION_ERROR"])
      expect(yield* rejected({ symbols: ["AAPL"], timeframe: "1d", mode: "comprehensive" })).toEqual([
        400,
        "VALIDATION_ERROR"
      ])
      expect(yield* rejected({ symbols: ["AAPL"], timeframe: "1d", start_date: "2024-05-01", end_date: "2024-01-01" }))
        .toEqual([400, "DATA-InvalidDate"])
      expect((yield* Effect.promise(() => readdir(s.dataDir))).filter((f) => f.endsWith(".csv"))).toEqual([
        "AAPL_1d.csv"
      ])
    }).pipe(Effect.scoped))

  it.live("the derived client: typed results and typed errors", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      yield* load(s.baseUrl, "AAPL", "1d", "2024-01-01", "2024-04-01")
      const client = yield* apiClient(s.baseUrl)
      const r = yield* client.gaps.gaps({
        path: { symbol: "AAPL", timeframe: "1d" },
        urlParams: { start_date: "2024-01-01", end_date: "2024-04-01", mode: "verbose", include_expected: true }
      })
      expect(r.data.summary.data_completeness_pct).toBe(100)
      expect(r.data.gaps.every((g) => g.classification.startsWith("expected_"))).toBe(true)
      const summary = yield* client.gaps.summary({
        path: { symbol: "AAPL", timeframe: "1d" },
        urlParams: { start_date: "2024-01-01", end_date: "2024-04-01" }
      })
      expect(summary.data.recommendations).toEqual(["Excellent data completeness - no action needed"])
      const batch = yield* client.gaps.batch({
        payload: { symbols: ["AAPL", "bad/x"], timeframe: "1d", start_date: "2024-01-01", end_date: "2024-04-01" }
      })
      expect(batch.data.errors.map((e) => e.symbol)).toEqual(["bad/x"])
      expect(batch.data.overall_summary).toMatchObject({ total_symbols: 1, overall_completeness_pct: 100 })
      const health = yield* client.gaps.health()
      expect(health.data.status).toBe("healthy")
      const err = yield* client.gaps.gaps({
        path: { symbol: "AAPL", timeframe: "1d" },
        urlParams: { start_date: "2024-04-01", end_date: "2024-01-01" }
      }).pipe(Effect.flip)
      expect(err).toMatchObject({ _tag: "BadRequest", code: "DATA-InvalidDate" })
    }).pipe(Effect.scoped))

  it.live(
    "KTRDR's own files: the cached forex entry picks the calendar and head; " +
      "extended-hours bars are named, not counted",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir()
        const files = ["AAPL_1h.csv", "EURUSD_1h.csv", "symbol_discovery_cache.json"]
        for (const f of files) yield* Effect.promise(() => copyFile(join("test/fixtures/ktrdr", f), join(dir, f)))
        const s = yield* startServer({ dataDir: dir })
        const fx = (yield* gaps(s.baseUrl, "EUR.USD/1h", "start_date=2025-01-01&end_date=2025-06-07")).json.data
        expect(fx).toMatchObject({
          symbol: "EUR.USD",
          trading_metadata: {
            calendar_id: "forex",
            asset_type: "CASH",
            source: "symbol_cache",
            head_timestamp: "2005-03-09T04:30:00Z"
          },
          summary: { actual_bars: 2591, unscheduled_bars: 0 }
        })
        // AAPL is not in that cache: a stock by its form. KTRDR downloaded extended hours (08:00Z bars); RTH is
        // analysed.
        const rth = (yield* gaps(s.baseUrl, "AAPL/1h", "start_date=2025-05-22&end_date=2025-06-07")).json.data
        expect(rth.trading_metadata).toMatchObject({
          calendar_id: "us-equity",
          source: "symbol_rules",
          hours: "regular"
        })
        expect(rth.summary.unscheduled_bars).toBeGreaterThan(0)
        expect(rth.recommendations.at(-1)).toBe(
          `${rth.summary.unscheduled_bars} stored bars outside the regular trading schedule not counted - ` +
            "extended-hours data? Analyse it with KTRDR_USE_RTH=false"
        )
        for (const f of files) {
          expect(yield* Effect.promise(() => readFile(join(dir, f), "utf8"))).toBe(
            yield* Effect.promise(() => readFile(join("test/fixtures/ktrdr", f), "utf8"))
          )
        }
        expect(ibRequests(s.sim)).toBe(0)
      }).pipe(Effect.scoped)
  )

  it.live("a corrupt file: 500 DATA-CorruptData alone, an error entry in a batch, and the file left as it was", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const file = join(s.dataDir, "AAPL_1d.csv")
      const garbage = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,100\nnot-a-date,x,y,z,w,v\n"
      yield* Effect.promise(() => writeFile(file, garbage))
      const one = yield* gaps(s.baseUrl, "AAPL/1d", Q1)
      expect(one.status).toBe(500)
      expect(one.json).toMatchObject({
        success: false,
        error: { code: "DATA-CorruptData", details: { file: "AAPL_1d.csv" } }
      })
      const batch = (yield* raw(
        s.baseUrl,
        "/api/v1/gap-analysis/data/batch",
        json({ symbols: ["AAPL", "MSFT"], timeframe: "1d", start_date: "2024-01-01", end_date: "2024-04-01" })
      )).json.data
      expect(batch.errors.map((e: { symbol: string }) => e.symbol)).toEqual(["AAPL"])
      expect(batch.results.map((r: { symbol: string }) => r.symbol)).toEqual(["MSFT"])
      expect(yield* Effect.promise(() => readFile(file, "utf8"))).toBe(garbage)
    }).pipe(Effect.scoped))
})
