/**
 * GET /data of a large series: the answer streams (chunked, no Content-Length) while it is written, is byte-identical
 * to what a second, cached request gets, and equals JSON.stringify of the same envelope built independently from the
 * CSV file's text (not from our parser or encoder). The encoder's numbers are checked against JSON.stringify on
 * random doubles too.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { request } from "node:http"
import { seriesFromBars } from "../../src/domain/barSeries.ts"
import { OhlcvJsonWriter } from "../../src/domain/ohlcvJson.ts"
import { raw, startServer, tempDir } from "./support.ts"

const N = 30_000

/** A minute series as CSV text, written here with plain string code (prices with 2–5 decimals, some missing). */
const csvText = () => {
  const lines = ["timestamp,open,high,low,close,volume"]
  const t0 = Date.UTC(2023, 0, 2, 14, 30)
  for (let i = 0; i < N; i++) {
    const t = new Date(t0 + i * 60_000).toISOString().slice(0, 19) + "Z"
    const p = (100 + Math.sin(i / 50) * 7).toFixed(2 + (i % 4))
    const close = i % 1009 === 3 ? "" : (Number(p) + 0.01).toFixed(2)
    const volume = i % 7 === 0 ? "-1" : String(i * 3)
    lines.push(`${t},${p},${(Number(p) + 1).toFixed(2)},${(Number(p) - 1).toFixed(2)},${close},${volume}`)
  }
  return lines.join("\n") + "\n"
}

/** KTRDR's envelope from the CSV text with JSON.stringify: the independent expectation. */
const expectedFrom = (text: string) => {
  const rows = text.trim().split("\n").slice(1).map((l) => l.split(","))
  const num = (s: string) => (s === "" ? null : Number(s))
  return {
    dates: rows.map((r) => r[0]!.slice(0, 19)),
    ohlcv: rows.map((r) => [num(r[1]!), num(r[2]!), num(r[3]!), num(r[4]!), Number(r[5]) < 0 ? 0 : Number(r[5])])
  }
}

/** Status, headers and body of a GET, read off the socket (fetch hides the transfer encoding). */
const get = (port: number, path: string) =>
  Effect.async<{ status: number; headers: Record<string, unknown>; body: Buffer; pieces: number }>((resume) => {
    const req = request({ host: "127.0.0.1", port, path }, (res) => {
      const parts: Array<Buffer> = []
      res.on("data", (c: Buffer) => parts.push(c))
      res.on("end", () =>
        resume(
          Effect.succeed({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(parts),
            pieces: parts.length
          })
        ))
    })
    req.on("error", (e) => resume(Effect.die(e)))
    req.end()
  })

describe("GET /data streams large answers", () => {
  it.live("30k bars: chunked, identical to the cached answer and to JSON.stringify of the file's own values", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir("ktrdr-stream-")
      const text = csvText()
      yield* Effect.promise(() => writeFile(join(dataDir, "BIG_1m.csv"), text))
      const s = yield* startServer({ dataDir })
      const port = Number(new URL(s.baseUrl).port)
      const cold = yield* get(port, "/api/v1/data/BIG/1m")
      expect(cold.status).toBe(200)
      expect(cold.headers["transfer-encoding"]).toBe("chunked")
      expect(cold.headers["content-length"]).toBeUndefined()
      const warm = yield* get(port, "/api/v1/data/BIG/1m")
      expect(warm.headers["content-length"]).toBe(String(warm.body.length))
      expect(warm.body.equals(cold.body)).toBe(true)
      const body = JSON.parse(cold.body.toString("utf8"))
      const want = expectedFrom(text)
      // the same bytes JSON.stringify would write for these arrays
      const dates = cold.body.indexOf("\"dates\":[")
      const ohlcvEnd = cold.body.indexOf("],\"points\"")
      expect(cold.body.subarray(dates, ohlcvEnd + 1).toString("utf8")).toBe(
        `"dates":${JSON.stringify(want.dates)},"ohlcv":${JSON.stringify(want.ohlcv)}`
      )
      expect(body.data.metadata).toMatchObject({
        point_count: N,
        points: N,
        incomplete_bars: Math.ceil((N - 3) / 1009)
      })
      // the file is untouched by reading
      expect(yield* Effect.promise(() => readFile(join(dataDir, "BIG_1m.csv"), "utf8"))).toBe(text)
      // a limited answer is small: one piece, with a length
      const tail = yield* raw(s.baseUrl, "/api/v1/data/BIG/1m?limit=5")
      expect(tail.headers.get("content-length")).toBe(String(Buffer.byteLength(tail.text)))
      expect(tail.json.data.dates).toEqual(want.dates.slice(-5))
    }).pipe(Effect.scoped))
})

describe("OHLCV JSON writer", () => {
  it("writes every price and volume exactly as JSON.stringify does", () => {
    const w = new OhlcvJsonWriter(64)
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.integer().map((k) => k / 100),
            fc.integer({ min: 0, max: 2 ** 40 })
          ),
          { minLength: 5, maxLength: 5 }
        ),
        (xs) => {
          const [o, h, l, c, v] = xs as [number, number, number, number, number]
          const s = seriesFromBars([{ time: 0, open: o, high: h, low: l, close: c, volume: v, wap: null, count: null }])
          const bytes = w.rows(s, { from: 0, to: 1 }, 0, 1, false)
          return new TextDecoder().decode(bytes) === JSON.stringify([o, h, l, c, v > 0 ? v : 0])
        }
      ),
      { numRuns: 20_000 }
    )
  })
})
