/**
 * Response side of KTRDR's contract: every endpoint KTRDR's clients call, answered by a real server (simulator,
 * KTRDR's own data files), decoded with the models written from the reference (contractModels.ts).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as M from "./contractModels.ts"
import { conforms, json, ktrdrServer, ktrdrServerWith, pollOperation, shownByKtrdrCli } from "./contractSupport.ts"
import { raw } from "./support.ts"

describe("KTRDR contract: responses", () => {
  it.live("data: /health, /symbols, /timeframes, /data/info, GET /data (rows, empty, limited), /data/range", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      const get = (p: string) => raw(s.baseUrl, `/api/v1${p}`)
      conforms(M.Health, (yield* get("/health")).json, "/health")
      const symbols = conforms(M.Symbols, (yield* get("/symbols")).json, "/symbols")
      expect(symbols.data.map((x) => x.symbol)).toContain("EURUSD")
      const tfs = conforms(M.Timeframes, (yield* get("/timeframes")).json, "/timeframes")
      expect(tfs.data.map((t) => t.id)).toEqual(expect.arrayContaining(["1m", "1h", "1d", "1w", "1M"]))
      conforms(M.DataInfo, (yield* get("/data/info")).json, "/data/info")

      const bars = yield* get("/data/AAPL/1h")
      const full = conforms(M.ApiResponse(M.OHLCVWithData), bars.json, "GET /data with rows")
      expect(full.data.dates.length).toBe(full.data.ohlcv.length)
      expect(full.data.metadata.point_count).toBe(full.data.dates.length)
      const limited = conforms(M.ApiResponse(M.OHLCVLimited), (yield* get("/data/AAPL/1h?limit=3")).json, "limit")
      expect(limited.data.dates).toEqual(full.data.dates.slice(-3))
      expect(limited.data.metadata).toMatchObject({ points: 3, original_points: full.data.dates.length })
      const emptyRange = yield* get("/data/AAPL/1h?start_date=2001-01-01&end_date=2001-02-01")
      conforms(M.ApiResponse(M.OHLCVEmpty), emptyRange.json, "GET /data without rows")
      // Not stored at all: 404, which KTRDR's CLI shows as "no cached data" (issue 14 wins over KTRDR's 200).
      const unstored = yield* get("/data/TSLA/1d")
      expect(unstored.status).toBe(404)
      expect(typeof unstored.json.detail).toBe("string")
      const eur = conforms(M.ApiResponse(M.OHLCVWithData), (yield* get("/data/EUR.USD/1h")).json, "forex")
      expect(eur.data.metadata.symbol).toBe("EURUSD")

      const range = yield* raw(s.baseUrl, "/api/v1/data/range", json("POST", { symbol: "AAPL", timeframe: "1h" }))
      const r = conforms(M.DataRangeInfo, range.json, "/data/range")
      expect(r.data.point_count).toBe(full.data.dates.length)
      const noRange = yield* raw(s.baseUrl, "/api/v1/data/range", json("POST", { symbol: "TSLA", timeframe: "1h" }))
      expect(noRange.status).toBe(404)
      expect(shownByKtrdrCli(noRange.json)).toMatch(/TSLA/)
    }).pipe(Effect.scoped))

  it.live("loads: acquire/download (flat), /data/load (nested, 2025), the operation and its list, as polled", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      // current CLI: top-level success and operation_id
      const dl = yield* raw(
        s.baseUrl,
        "/api/v1/data/acquire/download?async_mode=true",
        json("POST", { symbol: "EURUSD", timeframe: "1h", mode: "tail", filters: { trading_hours_only: "False" } })
      )
      expect(dl.status).toBe(200)
      const started = conforms(M.DataAcquisitionResponse, dl.json, "acquire/download")
      expect(started.message).toBe("Started tail download for EURUSD 1h")
      const done = yield* pollOperation(s.baseUrl, started.operation_id)
      const op = conforms(M.OperationStatusResponse, done.json, "GET /operations/{id}")
      expect(op.data).toMatchObject({ status: "completed", operation_type: "data_load", is_backend_local: true })
      expect(op.data.metadata.symbol).toBe("EURUSD") // KTRDR's series key, not EUR.USD
      expect(op.data.progress.percentage).toBe(100)

      // 2025 CLI: data.operation_id
      const old = yield* raw(
        s.baseUrl,
        "/api/v1/data/load?async_mode=true",
        json("POST", { symbol: "MSFT", timeframe: "1d", mode: "tail" })
      )
      const nested = conforms(M.DataLoadOperationResponse, old.json, "/data/load")
      expect(nested.data.status).toBe("started")
      yield* pollOperation(s.baseUrl, nested.data.operation_id!)

      const list = conforms(M.OperationList, (yield* raw(s.baseUrl, "/api/v1/operations")).json, "GET /operations")
      expect(list.data.map((o) => o.symbol).sort()).toEqual(["EURUSD", "MSFT"])
      expect(list.total_count).toBe(2)

      const id = started.operation_id
      const children = yield* raw(s.baseUrl, `/api/v1/operations/${id}/children`)
      expect(conforms(M.OperationList, children.json, "children").data).toEqual([])
      const results = conforms(M.ResultsResponse, (yield* raw(s.baseUrl, `/api/v1/operations/${id}/results`)).json, "r")
      expect(results.results).toMatchObject({ symbol: "EURUSD", timeframe: "1h" })
      const posted = yield* raw(s.baseUrl, `/api/v1/operations/${id}/metrics`, json("POST", { epochs: 3 }))
      conforms(M.MetricsPostResponse, posted.json, "POST metrics")
      const metrics = conforms(M.MetricsResponse, (yield* raw(s.baseUrl, `/api/v1/operations/${id}/metrics`)).json, "m")
      expect(metrics.data.metrics).toEqual({ epochs: 3 }) // an object (KTRDR sent a [list, cursor] array)
      const same = yield* raw(s.baseUrl, `/api/v1/operations/${id}/status`, json("PATCH", { status: "COMPLETED" }))
      expect(conforms(M.StatusUpdateResponse, same.json, "PATCH status")).toMatchObject({
        previous_status: "completed",
        new_status: "completed"
      })
      // finished: cancel and resume refuse with KTRDR's statuses and a message the CLIs show
      const cancel = yield* raw(s.baseUrl, `/api/v1/operations/${id}`, json("DELETE"))
      expect(cancel.status).toBeGreaterThanOrEqual(400)
      expect(shownByKtrdrCli(cancel.json)).toMatch(/cannot be cancelled/)
      const resume = yield* raw(s.baseUrl, `/api/v1/operations/${id}/resume`, json("POST"))
      expect(resume.status).toBe(409)
      expect(shownByKtrdrCli(resume.json)).toBe(`Operation ${id} is already completed`)
      const unknown = yield* raw(s.baseUrl, "/api/v1/operations/op_nope/results")
      expect(unknown.status).toBe(404)
      expect(shownByKtrdrCli(unknown.json)).toBe("Operation not found: op_nope")
    }).pipe(Effect.scoped))

  it.live("cancel, resume and retry of a running load: KTRDR's cancel reply, a resumed load that finishes", () =>
    Effect.gen(function*() {
      // slow answers, so the load is still running when the cancel arrives
      const s = yield* ktrdrServerWith({ sim: { latencyMs: 300 } })
      const dl = yield* raw(
        s.baseUrl,
        "/api/v1/data/acquire/download",
        json("POST", { symbol: "MSFT", timeframe: "1h", mode: "backfill", start_date: "2024-01-01" })
      )
      const id = conforms(M.DataAcquisitionResponse, dl.json, "download").operation_id
      const cancel = yield* raw(
        s.baseUrl,
        `/api/v1/operations/${id}`,
        json("DELETE", { reason: "User requested cancellation via CLI", force: "True" })
      )
      if (cancel.status === 200) {
        const c = conforms(M.CancelResponse, cancel.json, "DELETE /operations/{id}")
        expect(c.data).toMatchObject({ operation_id: id, cancellation_reason: "User requested cancellation via CLI" })
        const resumed = yield* raw(s.baseUrl, `/api/v1/operations/${id}/resume`, json("POST"))
        const r = conforms(M.ResumeResponse, resumed.json, "resume")
        expect(r.data.resumed_from.checkpoint_type).toBe("cancellation")
        const after = yield* pollOperation(s.baseUrl, r.data.operation_id)
        expect(after.json.data.status).toBe("completed")
      } else {
        // the load finished before the cancel reached it: KTRDR's 4xx with a message its CLI shows
        expect(shownByKtrdrCli(cancel.json)).toMatch(/cannot be cancelled/)
      }
    }).pipe(Effect.scoped))

  it.live("IB: status, health, config (GET/PUT), discover (known and unknown), ranges, resilience, breakers", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      const get = (p: string) => raw(s.baseUrl, `/api/v1${p}`)
      const known = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json("POST", { symbol: "AAPL" }))
      expect(conforms(M.SymbolDiscoveryResponse, known.json, "discover").data.symbol_info?.symbol).toBe("AAPL")
      const unknown = yield* raw(s.baseUrl, "/api/v1/ib/symbols/discover", json("POST", { symbol: "ZZZZQ" }))
      expect(unknown.status).toBe(200)
      expect(conforms(M.SymbolDiscoveryResponse, unknown.json, "discover unknown").data.symbol_info).toBeNull()

      const status = conforms(M.IbStatusResponse, (yield* get("/ib/status")).json, "/ib/status")
      expect(status.data.connection_metrics.last_connect_time).not.toBeNull()
      expect(status.data.data_metrics.success_rate).toBeGreaterThan(1) // a percentage: one of two lookups failed
      conforms(M.IbHealthStatus, (yield* get("/ib/health")).json, "/ib/health")
      const config = conforms(M.IbConfigResponse, (yield* get("/ib/config")).json, "/ib/config")
      const put = yield* raw(s.baseUrl, "/api/v1/ib/config", json("PUT", { port: config.data.port }))
      expect(conforms(M.IbConfigUpdateResponse, put.json, "PUT /ib/config").data.reconnect_required).toBe(false)
      const move = yield* raw(s.baseUrl, "/api/v1/ib/config", json("PUT", { port: 4001 }))
      expect(move.status).toBe(409)
      expect(shownByKtrdrCli(move.json)).toMatch(/restart/)

      const ranges = conforms(
        M.DataRangesResponse,
        (yield* get("/ib/ranges?symbols=AAPL,TSLA&timeframes=1h,1d")).json,
        ""
      )
      const aapl = ranges.data.symbols.find((x) => x.symbol === "AAPL")!
      expect(aapl.ranges["1h"]?.cached).toBe(true)
      expect(ranges.data.symbols.find((x) => x.symbol === "TSLA")!.ranges["1d"]).toBeNull()
      conforms(M.ResilienceResponse, (yield* get("/ib/resilience")).json, "/ib/resilience")
      conforms(M.CircuitBreakersResponse, (yield* get("/ib/circuit-breakers")).json, "/ib/circuit-breakers")
      conforms(M.CleanupResponse, (yield* raw(s.baseUrl, "/api/v1/ib/cleanup", json("POST"))).json, "/ib/cleanup")
      const discovered = conforms(M.DiscoveredResponse, (yield* get("/ib/symbols/discovered")).json, "discovered")
      expect(discovered.data.total_count).toBeGreaterThan(0)
      const fx = conforms(M.DiscoveredResponse, (yield* get("/ib/symbols/discovered?instrument_type=forex")).json, "")
      expect(fx.data.symbols.every((x) => x.instrument_type === "forex")).toBe(true)
    }).pipe(Effect.scoped))

  it.live("system: /workers is a bare array, checkpoints answer KTRDR's 404 with a detail", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      expect(conforms(M.Workers, (yield* raw(s.baseUrl, "/api/v1/workers")).json, "/workers")).toEqual([])
      expect((yield* raw(s.baseUrl, "/api/v1/workers?worker_type=training")).json).toEqual([])
      expect((yield* raw(s.baseUrl, "/api/v1/workers?worker_type=chef")).status).toBe(400)
      const w = yield* raw(s.baseUrl, "/api/v1/workers/w1")
      expect(w.status).toBe(404)
      expect(shownByKtrdrCli(w.json)).toBe("Worker not found: w1")
      conforms(M.CheckpointList, (yield* raw(s.baseUrl, "/api/v1/checkpoints")).json, "/checkpoints")
      const c = yield* raw(s.baseUrl, "/api/v1/checkpoints/op_x")
      expect(c.status).toBe(404)
      expect(shownByKtrdrCli(c.json)).toBe("Checkpoint not found: op_x")
      conforms(M.ErrorForClients, c.json, "404 body")
    }).pipe(Effect.scoped))

  it.live("gap analysis: GapAnalysisResponse in every KTRDR mode, the summary, the batch map", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      const q = "start_date=2025-05-01&end_date=2025-06-30"
      for (const mode of ["quick", "normal", "detailed", "comprehensive"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/gap-analysis/data/EURUSD/1h/gaps?${q}&mode=${mode}`)
        const g = conforms(M.ApiResponse(M.GapAnalysisResponse), r.json, `gaps mode=${mode}`)
        expect(g.data.analysis_mode).toBe(mode)
        if (mode === "normal") expect(g.data.gaps).toEqual([])
        if (mode === "comprehensive") expect(g.data.gaps.every((x) => x.market_hours)).toBe(true)
      }
      const quick = (yield* raw(s.baseUrl, `/api/v1/gap-analysis/data/EURUSD/1h/gaps?${q}&mode=quick`)).json.data
      expect(quick.gaps.length).toBeGreaterThan(0) // weekends at least
      expect(quick.summary.total_gaps).toBe(
        quick.summary.critical_gaps + quick.summary.major_gaps + quick.summary.minor_gaps
      )
      const batch = yield* raw(
        s.baseUrl,
        "/api/v1/gap-analysis/data/batch",
        json("POST", { symbols: ["EURUSD", "AAPL", "a/b"], timeframe: "1h", start_date: "2025-05-01", mode: "quick" })
      )
      const b = conforms(M.ApiResponse(M.BatchGapAnalysisResponse), batch.json, "batch")
      expect(Object.keys(b.data.results).sort()).toEqual(["AAPL", "EURUSD"])
      expect(b.data.overall_summary).toMatchObject({ symbols_requested: 3, symbols_successful: 2, symbols_failed: 1 })
      const bad = yield* raw(s.baseUrl, `/api/v1/gap-analysis/data/EURUSD/1h/gaps?${q}&mode=extreme`)
      expect(bad.status).toBe(400)
      expect(shownByKtrdrCli(bad.json)).toMatch(/mode/)
    }).pipe(Effect.scoped))
})
