/**
 * Request side of KTRDR's contract: what its clients send (Python booleans, its enums, `limit`, unknown params and
 * body fields) is accepted; what pydantic refuses is refused with a clear 4xx envelope whose `detail` KTRDR's
 * clients print, and nothing is written. KTRDR's files with empty values are served as KTRDR serves them.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdir } from "node:fs/promises"
import * as M from "./contractModels.ts"
import { conforms, json, ktrdrServer, pollOperation, shownByKtrdrCli } from "./contractSupport.ts"
import { raw } from "./support.ts"

const TRUE = ["true", "True", "TRUE", "t", "T", "yes", "Yes", "y", "Y", "on", "ON", "1"]
const FALSE = ["false", "False", "FALSE", "f", "F", "no", "No", "n", "N", "off", "OFF", "0"]
const NOT_BOOL = ["", " true", "2", "tru", "1.0", "maybe"]

describe("KTRDR contract: requests", () => {
  it.live("Python-style booleans in query strings: pydantic's 12 spellings in any case; others are a 400", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      for (const v of TRUE) {
        const r = yield* raw(s.baseUrl, `/api/v1/data/EURUSD/1h?trading_hours_only=${encodeURIComponent(v)}`)
        expect(r.status, v).toBe(200)
        expect(r.json.data.metadata, v).toMatchObject({ trading_hours_only: true, filter_calendar: "forex" })
        expect((yield* raw(s.baseUrl, `/api/v1/operations?active_only=${encodeURIComponent(v)}`)).status, v).toBe(200)
      }
      for (const v of FALSE) {
        const r = yield* raw(s.baseUrl, `/api/v1/data/EURUSD/1h?trading_hours_only=${encodeURIComponent(v)}`)
        expect(r.status, v).toBe(200)
        expect(r.json.data.metadata, v).toMatchObject({ trading_hours_only: false, filter_calendar: null })
      }
      for (const v of NOT_BOOL) {
        const r = yield* raw(s.baseUrl, `/api/v1/data/EURUSD/1h?trading_hours_only=${encodeURIComponent(v)}`)
        expect(r.status, JSON.stringify(v)).toBe(400)
        expect(r.json).toMatchObject({ success: false, error: { code: "VALIDATION_ERROR" } })
        expect(shownByKtrdrCli(r.json), v).toMatch(/trading_hours_only/)
      }
    }).pipe(Effect.scoped))

  it.live("Python-style booleans in bodies (filters, force), unknown fields and params ignored; bad ones → 400", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      // the 2025 CLI's str(bool), unknown keys and the CLI's unused query params
      const body = {
        symbol: "AAPL",
        timeframe: "1d",
        mode: "tail",
        filters: { trading_hours_only: "True", include_extended: "False" },
        some_future_field: 1
      }
      const ok = yield* raw(s.baseUrl, "/api/v1/data/acquire/download?async_mode=true&foo=bar", json("POST", body))
      const id = conforms(M.DataAcquisitionResponse, ok.json, "download with Python booleans").operation_id
      yield* pollOperation(s.baseUrl, id)
      for (const bad of ["", "2", "tru", " true"]) {
        const r = yield* raw(
          s.baseUrl,
          "/api/v1/data/acquire/download",
          json("POST", { ...body, symbol: "MSFT", filters: { trading_hours_only: bad } })
        )
        expect(r.status, JSON.stringify(bad)).toBe(400)
        expect(shownByKtrdrCli(r.json)).not.toBe("Unknown error")
      }
      for (const force of ["True", "yes", 1, true, "off"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/operations/${id}`, json("DELETE", { force, reason: "r" }))
        // accepted as a body: the refusal is about the finished operation, not the boolean
        expect(r.status, String(force)).toBe(409)
        expect(shownByKtrdrCli(r.json)).toMatch(/cannot be cancelled/)
      }
      const badForce = yield* raw(s.baseUrl, `/api/v1/operations/${id}`, json("DELETE", { force: "sure" }))
      expect(badForce.status).toBe(400)
      // nothing was written for the refused requests
      expect((yield* Effect.promise(() => readdir(s.dataDir))).filter((f) => f.startsWith("MSFT_1d"))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("operations filters take all of KTRDR's enums; a value none of them has is a 400", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      const dl = yield* raw(
        s.baseUrl,
        "/api/v1/data/acquire/download",
        json("POST", { symbol: "AAPL", timeframe: "1d" })
      )
      yield* pollOperation(s.baseUrl, dl.json.operation_id)
      for (const status of ["pending", "resuming", "running", "completed", "failed", "cancelled"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/operations?status=${status}`)
        const list = conforms(M.OperationList, r.json, status)
        expect(list.data.length, status).toBe(status === "completed" ? 1 : 0)
      }
      for (const t of ["data_load", "training", "dummy", "agent_research", "agent_design", "agent_assessment"]) {
        const list = conforms(
          M.OperationList,
          (yield* raw(s.baseUrl, `/api/v1/operations?operation_type=${t}`)).json,
          t
        )
        expect(list.data.length, t).toBe(t === "data_load" ? 1 : 0)
      }
      for (const q of ["status=bogus", "operation_type=chef", "limit=", "limit=0", "limit=1001"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/operations?${q}`)
        expect(r.status, q).toBe(400)
        expect(shownByKtrdrCli(r.json), q).not.toBe("Unknown error")
      }
      // unknown params ignored (KTRDR's CLI sends symbol/timeframe to GET /data too)
      expect((yield* raw(s.baseUrl, "/api/v1/operations?symbol=AAPL&x=1")).status).toBe(200)
      expect((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1d?symbol=AAPL&timeframe=1d")).status).toBe(200)
      const patch = yield* raw(
        s.baseUrl,
        `/api/v1/operations/${dl.json.operation_id}/status`,
        json("PATCH", {
          status: "sideways"
        })
      )
      expect(patch.status).toBe(400)
      expect(patch.json.error.code).toBe("OPERATIONS-StatusUpdateError")
    }).pipe(Effect.scoped))

  it.live("limit on GET /data keeps the newest N; empty values are rows with nulls (DEMO 1d 2023-01-10..20: 11)", () =>
    Effect.gen(function*() {
      const s = yield* ktrdrServer
      const demo = yield* raw(s.baseUrl, "/api/v1/data/DEMO/1d?start_date=2023-01-10&end_date=2023-01-20")
      const d = conforms(M.ApiResponse(M.OHLCVWithData), demo.json, "DEMO window")
      expect(d.data.dates).toHaveLength(11) // KTRDR's own contract number
      expect(d.data.dates[0]).toBe("2023-01-10T00:00:00")
      expect(d.data.dates.at(-1)).toBe("2023-01-20T00:00:00")
      expect(d.data.ohlcv.filter((r) => r[3] === null)).toHaveLength(5) // the file's five empty closes
      expect(d.data.ohlcv.every((r) => r[0] !== null && r[4] !== null)).toBe(true)

      const three = yield* raw(s.baseUrl, "/api/v1/data/DEMO/1d?start_date=2023-01-10&end_date=2023-01-20&limit=3")
      const t = conforms(M.ApiResponse(M.OHLCVLimited), three.json, "limit=3")
      expect(t.data.dates).toEqual(d.data.dates.slice(-3))
      expect(t.data.metadata).toMatchObject({ point_count: 11, points: 3, original_points: 11, limited: true })
      const all = yield* raw(s.baseUrl, "/api/v1/data/DEMO/1d?start_date=2023-01-10&end_date=2023-01-20&limit=100000")
      expect(all.json.data.dates).toEqual(d.data.dates)
      expect(all.json.data.metadata.limited).toBeUndefined()
      for (const bad of ["", "0", "100001", "x"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/data/DEMO/1d?limit=${bad}`)
        expect(r.status, bad).toBe(400)
        expect(shownByKtrdrCli(r.json), bad).toMatch(/limit/)
      }
    }).pipe(Effect.scoped))
})
