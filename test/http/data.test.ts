import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { request } from "node:http"
import { copyFile, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { Bar } from "../../src/domain/Bar.ts"
import { OhlcvData } from "../../src/contract/api/data.ts"
import { ByteLru } from "../../src/http/barCache.ts"
import { encodeOhlcv } from "../../src/http/barsResponse.ts"
import { Envelope } from "../../src/contract/envelope.ts"
import { apiClient, raw, startServer, tempDir } from "./support.ts"
import { emptySeries, seriesFromBars } from "../../src/domain/barSeries.ts"

const FIXTURES = fileURLToPath(new URL("../fixtures/ktrdr/", import.meta.url))

/**
 * A data dir holding KTRDR's real files and symbol cache, one level below a temp dir of its own: the
 * path tests check that nothing appears beside it, which the shared /tmp could not show.
 */
const ktrdrDataDir = Effect.gen(function*() {
  const dir = join(yield* tempDir("ktrdr-data-"), "data")
  yield* Effect.promise(() => mkdir(dir))
  for (const f of yield* Effect.promise(() => readdir(FIXTURES))) {
    if (f.endsWith(".csv") || f.endsWith(".json")) {
      yield* Effect.promise(() => copyFile(join(FIXTURES, f), join(dir, f)))
    }
  }
  return dir
})

const post = (body: unknown): RequestInit => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

/** Rows of a CSV file (header dropped), to compare answers with the file itself. */
const csvRows = (file: string) =>
  Effect.map(
    Effect.promise(() => readFile(file, "utf8")),
    (t) => t.trim().split("\n").slice(1).map((l) => l.split(","))
  )

/** `2025-05-22 08:00:00+00:00` or `2025-01-01` → epoch ms. */
const rowTime = (s: string) => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s.replace(" ", "T"))

/** GET with the path sent byte for byte (fetch would resolve `..` and `%2e%2e` before sending). */
const rawPath = (port: number, path: string) =>
  Effect.async<{ status: number; json: any }>((resume) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (body += c))
      res.on("end", () => {
        let json: unknown = undefined
        try {
          json = JSON.parse(body)
        } catch { /* not JSON */ }
        resume(Effect.succeed({ status: res.statusCode ?? 0, json }))
      })
    })
    req.on("error", (e) => resume(Effect.die(e)))
    req.end()
  })

/** New York wall clock minutes of an instant (Intl, independent of the server's calendars). */
const nyMinute = (iso: string) => {
  const p = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York",
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit"
  }).formatToParts(new Date(iso))
  return Number(p.find((x) => x.type === "hour")!.value) * 60 + Number(p.find((x) => x.type === "minute")!.value)
}

describe("data API over KTRDR's files", () => {
  it.live("/symbols, /timeframes and /data/info describe the stored series; the derived client reads the same", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const client = yield* apiClient(s.baseUrl)
      const files = (yield* Effect.promise(() => readdir(dataDir))).filter((f) => f.endsWith(".csv"))
      const byKey = new Map<string, Array<string>>()
      for (const f of files) {
        const [key, tf] = f.slice(0, -4).split("_") as [string, string]
        byKey.set(key, [...(byKey.get(key) ?? []), tf])
      }
      // A valid file whose key no symbol parses to (GET could never serve it) is not listed.
      yield* Effect.promise(() =>
        copyFile(join(dataDir, files.find((f) => f.endsWith("_1d.csv"))!), join(dataDir, "BRK_B_1d.csv"))
      )

      const symbols = yield* raw(s.baseUrl, "/api/v1/symbols")
      expect(symbols.status).toBe(200)
      expect(symbols.json.success).toBe(true)
      expect(symbols.json.error).toBeNull()
      const rows: Array<any> = symbols.json.data
      expect(rows.map((r) => r.symbol)).toEqual([...byKey.keys()].sort())
      for (const r of rows) expect(r.available_timeframes).toEqual([...byKey.get(r.symbol)!].sort())
      // EURUSD is in KTRDR's cache (CASH): its name, exchange, currency, and forex hours from our calendar
      const eur = rows.find((r) => r.symbol === "EURUSD")
      expect(eur).toMatchObject({
        name: "European Monetary Union Euro",
        type: "forex",
        exchange: "IDEALPRO",
        currency: "USD"
      })
      expect(eur.trading_hours).toMatchObject({
        timezone: "America/New_York",
        regular_hours: { start: "17:15", end: "17:00" },
        trading_days: [0, 1, 2, 3, 4, 6]
      })
      // AAPL has no cache entry and could be a stock, an index or a future: not guessed
      expect(rows.find((r) => r.symbol === "AAPL")).toEqual({
        symbol: "AAPL",
        name: "AAPL",
        type: "unknown",
        exchange: "unknown",
        currency: "unknown",
        available_timeframes: ["1d", "1h", "5m"],
        trading_hours: null
      })
      expect((yield* client.data.symbols()).data).toEqual(rows)

      const tfs = yield* raw(s.baseUrl, "/api/v1/timeframes")
      expect(tfs.status).toBe(200)
      expect(tfs.json.data).toContainEqual({
        id: "1h",
        name: "1 Hour",
        description: "One-hour interval data",
        seconds: 3600
      })
      expect(tfs.json.data).toContainEqual({
        id: "5m",
        name: "5 Minutes",
        description: "Five-minute interval data",
        seconds: 300
      })
      expect(tfs.json.data).toContainEqual({
        id: "1d",
        name: "Daily",
        description: "Daily interval data",
        seconds: 86400
      })
      expect((yield* client.data.timeframes()).data).toEqual(tfs.json.data)

      const info = yield* raw(s.baseUrl, "/api/v1/data/info")
      expect(info.status).toBe(200)
      const types: Record<string, number> = {}
      for (const r of rows) types[r.type] = (types[r.type] ?? 0) + 1
      expect(info.json.data).toMatchObject({
        data_directory: dataDir,
        total_symbols: byKey.size,
        available_symbols: [...byKey.keys()].sort(),
        symbol_types: types,
        timeframes_available: [...new Set([...byKey.values()].flat())].sort(),
        total_series: files.length,
        data_sources: ["local_files", "ib_gateway"]
      })
      expect(info.json.data.symbol_types.forex).toBe(1)
      expect((yield* client.data.info()).data).toEqual(info.json.data)
    }).pipe(Effect.scoped))

  it.live("GET /data serves the files as stored: naive UTC dates ascending, inclusive ranges, KTRDR's name forms", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const client = yield* apiClient(s.baseUrl)
      const file = yield* csvRows(join(dataDir, "AAPL_1h.csv"))

      const all = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")
      expect(all.status).toBe(200)
      expect(all.headers.get("content-type")).toContain("application/json")
      const d = all.json.data
      // KTRDR's form: UTC wall clock, no zone
      expect(d.dates).toEqual(file.map((r) => new Date(rowTime(r[0]!)).toISOString().slice(0, 19)))
      expect(d.ohlcv).toEqual(file.map((r) => r.slice(1, 6).map(Number)))
      expect(d.points).toBeNull()
      expect(d.metadata).toEqual({
        symbol: "AAPL",
        timeframe: "1h",
        start_date: `${d.dates[0]}+00:00`,
        end_date: `${d.dates.at(-1)}+00:00`,
        point_count: file.length,
        start: d.dates[0],
        end: d.dates.at(-1),
        points: file.length,
        total_count: file.length,
        range_start_date: `${d.dates[0]}Z`,
        trading_hours_only: false,
        include_extended: false,
        filter_calendar: null,
        incomplete_bars: 0
      })
      // limit (KTRDR) and tail (ours): the last N bars only, with the range's size and start.
      for (const param of ["limit", "tail"]) {
        const last5 = yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?${param}=5`)
        expect(last5.json.data.dates).toEqual(d.dates.slice(-5))
        expect(last5.json.data.ohlcv).toEqual(d.ohlcv.slice(-5))
        expect(last5.json.data.metadata).toMatchObject({
          point_count: file.length,
          points: 5,
          limited: true,
          original_points: file.length,
          total_count: file.length,
          start_date: `${d.dates[0]}+00:00`,
          start: d.dates.at(-5)
        })
      }
      expect((yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?limit=${file.length + 10}`)).json.data.dates).toEqual(d.dates)
      expect((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")).json.data.dates).toHaveLength(file.length)
      for (const bad of ["0", "-1", "1.5", "x", "", "100001"]) {
        expect((yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?limit=${bad}`)).status, bad).toBe(400)
      }
      for (const bad of ["0", "-1", "1.5", "x"]) {
        expect((yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?tail=${bad}`)).status, bad).toBe(400)
      }
      // the derived client decodes the hand-written bytes with the contract's schema
      const viaClient = yield* client.data.bars({ path: { symbol: "aapl", timeframe: "1h" }, urlParams: {} })
      expect(viaClient).toEqual(all.json)
      // a second answer (from the hot cache) is the same bytes
      expect((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")).text).toBe(all.text)

      // inclusive bounds, ISO with Z or a bare date (midnight UTC)
      const win = yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?start_date=${d.dates[2]}&end_date=${d.dates[5]}`)
      expect(win.json.data.dates).toEqual(d.dates.slice(2, 6))
      const day = d.dates[0].slice(0, 10)
      const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10)
      const oneDay = yield* raw(s.baseUrl, `/api/v1/data/AAPL/1h?start_date=${day}&end_date=${next}`)
      expect(oneDay.json.data.dates).toEqual(d.dates.filter((x: string) => x < `${next}T00:00:01`))

      // forex: KTRDR's series key, whichever way the pair is written; volume 0.0 in the file stays 0
      const eur = yield* raw(s.baseUrl, "/api/v1/data/EURUSD/1h")
      expect(eur.json.data.metadata.point_count).toBe((yield* csvRows(join(dataDir, "EURUSD_1h.csv"))).length)
      expect(eur.json.data.ohlcv.every((r: Array<number>) => r.length === 5 && r[4] === 0)).toBe(true)
      for (const form of ["eurusd", "EUR.USD", "EUR%2FUSD"]) {
        expect((yield* raw(s.baseUrl, `/api/v1/data/${form}/1h`)).text).toBe(eur.text)
      }

      // MSFT_1h has an empty index header; still served, ascending
      const msft = yield* raw(s.baseUrl, "/api/v1/data/MSFT/1h")
      const msftDates: Array<string> = msft.json.data.dates
      expect(msftDates.length).toBe((yield* csvRows(join(dataDir, "MSFT_1h.csv"))).length)
      expect(msftDates.every((x, i) => i === 0 || x > msftDates[i - 1]!)).toBe(true)

      // DEMO_1d has rows with an empty close: served with null, as KTRDR does, and counted
      const demoRows = yield* csvRows(join(dataDir, "DEMO_1d.csv"))
      const incomplete = demoRows.filter((r) => r.slice(1, 5).some((x) => x === "")).length
      expect(incomplete).toBeGreaterThan(0)
      const demo = yield* raw(s.baseUrl, "/api/v1/data/DEMO/1d")
      expect(demo.json.data.metadata.incomplete_bars).toBe(incomplete)
      expect(demo.json.data.metadata.point_count).toBe(demoRows.length)
      expect(demo.json.data.dates[0]).toBe("2023-01-01T00:00:00")
      expect(demo.json.data.ohlcv.filter((r: Array<number | null>) => r[3] === null)).toHaveLength(incomplete)

      // a series that is not stored at all: 404 DATA-NotFound, with what to do, in KTRDR's `detail` too
      const none = yield* raw(s.baseUrl, "/api/v1/data/TSLA/1h?start_date=2025-01-01")
      expect(none.status).toBe(404)
      expect(none.json).toMatchObject({
        success: false,
        error: { code: "DATA-NotFound", details: { symbol: "TSLA", timeframe: "1h" } },
        detail: expect.stringMatching(/^No stored data for TSLA \(1h\): load it first/)
      })
      // a stored series with no bars in the range: 200, empty arrays, the same metadata keys
      const empty = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h?start_date=2001-01-01&end_date=2001-02-01")
      expect(empty.status).toBe(200)
      expect(empty.json.data).toMatchObject({ dates: [], ohlcv: [], metadata: { symbol: "AAPL", point_count: 0 } })
      expect(Object.keys(empty.json.data.metadata).sort()).toEqual(Object.keys(d.metadata).sort())
      expect(yield* Effect.promise(() => readdir(dataDir))).not.toContain("TSLA_1h.csv")
    }).pipe(Effect.scoped))

  it.live("POST /data/range: first and last stored bar and the exact count; 404 envelope when not stored", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const client = yield* apiClient(s.baseUrl)
      const rows = yield* csvRows(join(dataDir, "MSFT_1h.csv"))
      const times = rows.map((r) => rowTime(r[0]!))
      const r = yield* raw(s.baseUrl, "/api/v1/data/range", post({ symbol: "msft", timeframe: "1h" }))
      expect(r.status).toBe(200)
      expect(r.json).toEqual({
        success: true,
        error: null,
        data: {
          symbol: "MSFT",
          timeframe: "1h",
          point_count: new Set(times).size,
          start_date: new Date(Math.min(...times)).toISOString().replace(".000Z", "Z"),
          end_date: new Date(Math.max(...times)).toISOString().replace(".000Z", "Z")
        }
      })
      expect((yield* client.data.range({ payload: { symbol: "MSFT", timeframe: "1h" } })).data).toEqual(r.json.data)

      const missing = yield* raw(s.baseUrl, "/api/v1/data/range", post({ symbol: "TSLA", timeframe: "1h" }))
      expect(missing.status).toBe(404)
      expect(missing.json).toMatchObject({ success: false, data: null, error: { code: "DATA-NotFound" } })
      const flipped = yield* client.data.range({ payload: { symbol: "TSLA", timeframe: "1h" } }).pipe(Effect.flip)
      expect(flipped).toMatchObject({ _tag: "NotFoundError", code: "DATA-NotFound" })
    }).pipe(Effect.scoped))

  it.live("bad input: typed 400 envelopes (dates, timeframe, booleans, symbols) via raw HTTP and the client", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const client = yield* apiClient(s.baseUrl)
      const cases: Array<[string, string]> = [
        ["/api/v1/data/AAPL/1h?start_date=2025-13-01", "DATA-InvalidDate"],
        ["/api/v1/data/AAPL/1h?end_date=yesterday", "DATA-InvalidDate"],
        ["/api/v1/data/AAPL/1h?start_date=2025-06-01&end_date=2025-05-01", "DATA-InvalidDate"],
        ["/api/v1/data/AAPL/7h", "VALIDATION_ERROR"],
        ["/api/v1/data/AAPL/1h?trading_hours_only=maybe", "VALIDATION_ERROR"],
        ["/api/v1/data/AAPL/1h?trading_hours_only=", "VALIDATION_ERROR"],
        ["/api/v1/data/%20%20/1h", "DATA-InvalidSymbol"] // KTRDR answered a blank symbol with a 500
      ]
      for (const [path, code] of cases) {
        const r = yield* raw(s.baseUrl, path)
        expect(r.status, path).toBe(400)
        expect(r.json, path).toMatchObject({ success: false, data: null, error: { code } })
        expect(typeof r.json.error.message).toBe("string")
        // what KTRDR's clients show: top-level detail, then message
        expect(r.json.detail, path).toBe(r.json.error.message)
        expect(r.json.message, path).toBe(r.json.error.message)
      }
      const e = yield* client.data.bars({
        path: { symbol: "AAPL", timeframe: "1h" },
        urlParams: { start_date: "2025-02-30" }
      }).pipe(Effect.flip)
      expect(e).toMatchObject({
        _tag: "BadRequest",
        code: "DATA-InvalidDate",
        details: { field: "start_date", value: "2025-02-30" }
      })
      const r = yield* raw(s.baseUrl, "/api/v1/data/range", post({ symbol: "../etc", timeframe: "1h" }))
      expect(r.status).toBe(400)
      expect(r.json.error.code).toBe("DATA-InvalidSymbol")
    }).pipe(Effect.scoped))

  it.live("path-like symbols are refused before the file system is touched; the data dir is unchanged", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const before = (yield* Effect.promise(() => readdir(dataDir))).sort()
      const parent = (yield* Effect.promise(() => readdir(join(dataDir, "..")))).length
      for (
        const sym of [
          "..%2Fetc",
          "a%2Fb",
          "%2e%2e",
          "%2E%2E%2F%2E%2E%2Fpasswd",
          "..%5C..%5Cwin",
          "%00AAPL",
          ".hidden",
          "AAPL_1h"
        ]
      ) {
        const r = yield* rawPath(s.port, `/api/v1/data/${sym}/1h`)
        expect(r.status, sym).toBe(400)
        expect(r.json, sym).toMatchObject({ success: false, error: { code: "DATA-InvalidSymbol" } })
      }
      // unencoded: a different route (or none) — never a 2xx
      for (const path of ["/api/v1/data/../etc/1h", "/api/v1/data/a/b/1h"]) {
        const r = yield* rawPath(s.port, path)
        expect(r.status, path).toBeGreaterThanOrEqual(400)
        expect(r.json?.success, path).toBe(false)
      }
      // CON is an ordinary symbol on POSIX: not stored (404), and no file appears
      const con = yield* rawPath(s.port, "/api/v1/data/CON/1h")
      expect(con.status).toBe(404)
      expect(con.json.error.code).toBe("DATA-NotFound")
      expect((yield* Effect.promise(() => readdir(dataDir))).sort()).toEqual(before)
      expect((yield* Effect.promise(() => readdir(join(dataDir, "..")))).length).toBe(parent)
    }).pipe(Effect.scoped))

  it.live("a corrupt file is a 500 DATA-CorruptData envelope naming the file and line; the server keeps serving", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      yield* Effect.promise(() =>
        writeFile(
          join(dataDir, "BAD_1h.csv"),
          "timestamp,open,high,low,close,volume\n2025-01-02T15:00:00Z,1,2,0.5,1.5,10\n" +
            "2025-01-02T16:00:00Z,abc,2,0.5,1.5,10\n"
        )
      )
      const bad = yield* raw(s.baseUrl, "/api/v1/data/BAD/1h")
      expect(bad.status).toBe(500)
      expect(bad.json).toMatchObject({
        success: false,
        data: null,
        error: { code: "DATA-CorruptData", details: { file: "BAD_1h.csv", line: 3 } }
      })
      expect(bad.json.error.details.file).not.toContain(dataDir) // no absolute path leaks
      const range = yield* raw(s.baseUrl, "/api/v1/data/range", post({ symbol: "BAD", timeframe: "1h" }))
      expect(range.status).toBe(500)
      expect(range.json.error.code).toBe("DATA-CorruptData")
      const client = yield* apiClient(s.baseUrl)
      const e = yield* client.data.bars({ path: { symbol: "BAD", timeframe: "1h" }, urlParams: {} }).pipe(Effect.flip)
      expect(e).toMatchObject({ _tag: "InternalError", code: "DATA-CorruptData" })
      expect((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")).status).toBe(200)
      // the file is left as it was: evidence, not something to overwrite
      expect(yield* Effect.promise(() => readFile(join(dataDir, "BAD_1h.csv"), "utf8"))).toContain("abc")
    }).pipe(Effect.scoped))

  it.live("the hot cache never serves a replaced file: an external atomic rewrite is seen on the next request", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      const s = yield* startServer({ dataDir })
      const first = yield* raw(s.baseUrl, "/api/v1/data/AAPL/5m")
      // many concurrent askers of a cold key share one build and get the same bytes
      const cold = yield* Effect.all(
        Array.from({ length: 12 }, () => raw(s.baseUrl, "/api/v1/data/AAPL/5m?start_date=2025-05-28")),
        { concurrency: "unbounded" }
      )
      expect(new Set(cold.map((r) => r.text)).size).toBe(1)
      const text = yield* Effect.promise(() => readFile(join(dataDir, "AAPL_5m.csv"), "utf8"))
      const kept = text.trim().split("\n").slice(0, 11).join("\n") + "\n"
      yield* Effect.promise(() => writeFile(join(dataDir, ".tmp-aapl"), kept))
      yield* Effect.promise(() => rename(join(dataDir, ".tmp-aapl"), join(dataDir, "AAPL_5m.csv")))
      const after = yield* raw(s.baseUrl, "/api/v1/data/AAPL/5m")
      expect(first.json.data.metadata.point_count).toBeGreaterThan(10)
      expect(after.json.data.metadata.point_count).toBe(10)
      expect(after.json.data.dates).toEqual(first.json.data.dates.slice(0, 10))
    }).pipe(Effect.scoped))

  it.live("trading_hours_only on a forex file: weekend bars dropped by the forex calendar, session bars kept", () =>
    Effect.gen(function*() {
      const dataDir = yield* ktrdrDataDir
      // one bar on a Saturday after the file's last row: IB never sends one, the filter must drop it
      yield* Effect.promise(() =>
        writeFile(join(dataDir, "EURUSD_1h.csv"), "2025-06-07 12:00:00+00:00,1.1,1.2,1.0,1.1,0.0\n", { flag: "a" })
      )
      const s = yield* startServer({ dataDir })
      const all = yield* raw(s.baseUrl, "/api/v1/data/EURUSD/1h")
      const only = yield* raw(s.baseUrl, "/api/v1/data/EURUSD/1h?trading_hours_only=true")
      expect(only.json.data.metadata).toMatchObject({ trading_hours_only: true, filter_calendar: "forex" })
      expect(all.json.data.dates).toContain("2025-06-07T12:00:00")
      expect(only.json.data.dates).toEqual(all.json.data.dates.filter((x: string) => x !== "2025-06-07T12:00:00"))
      // AAPL has no known asset class here: nothing to filter by, and the answer says so
      const aapl = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h?trading_hours_only=true")
      expect(aapl.json.data.metadata).toMatchObject({ trading_hours_only: true, filter_calendar: null })
      expect(aapl.json.data.dates).toEqual((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")).json.data.dates)
    }).pipe(Effect.scoped))
})

describe("data API over the simulator", () => {
  it.live("a load followed by GET shows the new bars (the cached answer is invalidated); range follows", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const client = yield* apiClient(s.baseUrl)
      const empty = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")
      expect(empty.status).toBe(404)

      const full = yield* raw(
        s.baseUrl,
        "/api/v1/data/load",
        post({ symbol: "AAPL", timeframe: "1h", mode: "full", start_date: "2025-01-02", end_date: "2025-01-08" })
      )
      expect(full.status).toBe(200)
      expect(full.json.data.status).toBe("success")
      const one = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")
      const stored1 = yield* csvRows(join(s.dataDir, "AAPL_1h.csv"))
      expect(one.json.data.metadata.point_count).toBe(stored1.length)
      expect(one.json.data.metadata.point_count).toBe(full.json.data.total_bars)
      expect((yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")).text).toBe(one.text) // now cached

      const tail = yield* raw(
        s.baseUrl,
        "/api/v1/data/load",
        post({ symbol: "AAPL", timeframe: "1h", mode: "tail", end_date: "2025-01-15" })
      )
      expect(tail.json.data.new_bars).toBeGreaterThan(0)
      const two = yield* raw(s.baseUrl, "/api/v1/data/AAPL/1h")
      const stored2 = yield* csvRows(join(s.dataDir, "AAPL_1h.csv"))
      expect(two.json.data.metadata.point_count).toBe(stored2.length)
      expect(two.json.data.metadata.point_count).toBe(one.json.data.metadata.point_count + tail.json.data.new_bars)
      expect(two.json.data.dates.slice(0, one.json.data.dates.length)).toEqual(one.json.data.dates)
      expect(two.json.data.metadata.end_date > one.json.data.metadata.end_date).toBe(true)

      const range = yield* client.data.range({ payload: { symbol: "AAPL", timeframe: "1h" } })
      expect(range.data).toEqual({
        symbol: "AAPL",
        timeframe: "1h",
        start_date: `${two.json.data.dates[0]}Z`,
        end_date: `${two.json.data.dates.at(-1)}Z`,
        point_count: stored2.length
      })

      // the load put AAPL in the symbol cache: now a stock with US equity hours
      const symbols = yield* client.data.symbols()
      const aapl = symbols.data.find((x) => x.symbol === "AAPL")!
      expect(aapl).toMatchObject({ type: "stock", currency: "USD", available_timeframes: ["1h"] })
      expect(aapl.trading_hours?.extended_hours.map((h) => h.name)).toEqual(["Pre-Market", "After-Hours"])
    }).pipe(Effect.scoped))

  it.live("trading_hours_only / include_extended on extended-hours minute bars loaded from the simulator", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ data: { useRTH: false } })
      const load = yield* raw(
        s.baseUrl,
        "/api/v1/data/load",
        post({ symbol: "AAPL", timeframe: "1m", mode: "full", start_date: "2025-01-06", end_date: "2025-01-08" })
      )
      expect(load.json.data.status).toBe("success")
      const q = "/api/v1/data/AAPL/1m?start_date=2025-01-06&end_date=2025-01-08"
      const all = (yield* raw(s.baseUrl, q)).json.data
      const regular = (yield* raw(s.baseUrl, `${q}&trading_hours_only=true`)).json.data
      const extended = (yield* raw(s.baseUrl, `${q}&trading_hours_only=true&include_extended=true`)).json.data
      // without trading_hours_only: no filter
      const ignored = (yield* raw(s.baseUrl, `${q}&include_extended=true`)).json.data

      const minutes: Array<number> = all.dates.map(nyMinute)
      // the store holds pre-market and after-hours bars (useRTH=false)
      expect(minutes.some((m) => m < 9 * 60 + 30)).toBe(true)
      expect(minutes.some((m) => m >= 16 * 60)).toBe(true)
      const inRegular = all.dates.filter((_: string, i: number) => minutes[i]! >= 9 * 60 + 30 && minutes[i]! < 16 * 60)
      const inExtended = all.dates.filter((_: string, i: number) => minutes[i]! >= 4 * 60 && minutes[i]! < 20 * 60)
      expect(regular.dates).toEqual(inRegular)
      expect(regular.dates.length).toBe(2 * 390) // two full sessions of 09:30–16:00
      expect(regular.metadata).toMatchObject({
        trading_hours_only: true,
        include_extended: false,
        filter_calendar: "us-equity",
        point_count: 780
      })
      expect(extended.dates).toEqual(inExtended)
      expect(extended.metadata.filter_calendar).toBe("us-equity")
      expect(ignored.dates).toEqual(all.dates)
      // rows follow their dates
      const at = all.dates.indexOf(regular.dates[0])
      expect(regular.ohlcv[0]).toEqual(all.ohlcv[at])
    }).pipe(Effect.scoped))
})

describe("bars encoding and cache (units)", () => {
  const decode = Schema.decodeUnknownSync(Envelope(OhlcvData))

  it.live("hand-written bytes equal what the contract's schema decodes, across slices, NaN prices as null", () =>
    Effect.gen(function*() {
      const bars: Array<Bar> = Array.from({ length: 20_000 }, (_, i) => ({
        time: Date.UTC(2020, 0, 1) + i * 60_000,
        open: 1 + i / 1000,
        high: 2 + i / 1000,
        low: 0.5,
        close: i % 997 === 5 ? NaN : 1.5 + i / 7,
        volume: i % 3 === 0 ? null : i * 1.5,
        wap: null,
        count: null
      }))
      const keep = (t: number) => (t / 60_000) % 2 === 0
      const bytes = yield* encodeOhlcv(seriesFromBars(bars), {
        symbol: "X",
        timeframe: "1m",
        trading_hours_only: true,
        include_extended: false,
        filter_calendar: "us-equity"
      }, keep)
      const decoded = decode(JSON.parse(Buffer.from(bytes).toString("utf8")))
      const expected = bars.filter((b) => keep(b.time))
      expect(decoded.data.dates).toEqual(expected.map((b) => new Date(b.time).toISOString().slice(0, 19)))
      expect(decoded.data.ohlcv).toEqual(
        expected.map((b) => [b.open, b.high, b.low, Number.isFinite(b.close) ? b.close : null, b.volume ?? 0])
      )
      expect(decoded.data.metadata.incomplete_bars).toBe(
        bars.filter((b) => keep(b.time) && !Number.isFinite(b.close)).length
      )
      expect(decoded.data.metadata.incomplete_bars).toBeGreaterThan(0)
      expect(decoded.data.metadata.point_count).toBe(expected.length)
      const none = decode(
        JSON.parse(
          Buffer.from(
            yield* encodeOhlcv(emptySeries(), {
              symbol: "X",
              timeframe: "1m",
              trading_hours_only: false,
              include_extended: false,
              filter_calendar: null
            })
          ).toString()
        )
      )
      expect(none.data.metadata).toMatchObject({ start_date: null, end_date: null, point_count: 0 })
    }))

  it.live("dates match toISOString across day, leap-day and pre-1970 boundaries", () =>
    Effect.gen(function*() {
      const times = [
        Date.UTC(1969, 11, 31, 23, 59, 59),
        Date.UTC(1970, 0, 1),
        Date.UTC(1999, 11, 31, 23, 59, 59),
        Date.UTC(2000, 0, 1),
        Date.UTC(2024, 1, 29, 9, 30),
        Date.UTC(2024, 2, 1, 0, 0, 1)
      ]
      const bars: Array<Bar> = times.map((time) => ({
        time,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        volume: 1,
        wap: null,
        count: null
      }))
      const out = decode(
        JSON.parse(
          Buffer.from(
            yield* encodeOhlcv(seriesFromBars(bars), {
              symbol: "X",
              timeframe: "1s",
              trading_hours_only: false,
              include_extended: false,
              filter_calendar: null
            })
          ).toString()
        )
      )
      expect(out.data.dates).toEqual(times.map((t) => new Date(t).toISOString().slice(0, 19)))
    }))

  it(
    "LRU: bounded by bytes, least recently used out, " +
      "a changed fingerprint is a miss, oversize entries not kept",
    () => {
      const lru = new ByteLru(100)
      const b = (n: number) => new Uint8Array(n)
      lru.set("a", "v1", b(40))
      lru.set("b", "v1", b(40))
      expect(lru.get("a", "v1")?.length).toBe(40) // a is now the most recent
      lru.set("c", "v1", b(40)) // evicts b
      expect(lru.get("b", "v1")).toBeUndefined()
      expect(lru.get("a", "v1")).toBeDefined()
      expect(lru.get("c", "v2")).toBeUndefined() // file changed: dropped
      expect(lru.get("c", "v1")).toBeUndefined()
      lru.set("huge", "v1", b(101))
      expect(lru.get("huge", "v1")).toBeUndefined()
      expect(lru.stats().bytes).toBe(40)
      expect(lru.stats().entries).toBe(1)
    }
  )
})
