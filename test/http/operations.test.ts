import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdir, readFile } from "node:fs/promises"
import { apiClient, raw, startServer } from "./support.ts"

const json = (body: unknown, method = "POST"): RequestInit => ({
  method,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" }
})

/** Reads an SSE response to its end: every `event:` / `data:` frame, parsed. */
const readSse = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const res = await fetch(url, init)
    const events: Array<{ event: string; data: any; id?: string }> = []
    const text = await res.text()
    for (const block of text.split("\n\n")) {
      const lines = block.split("\n").filter((l) => l !== "" && !l.startsWith(":"))
      if (lines.length === 0) continue
      const field = (k: string) => lines.find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2)
      const id = field("id")
      events.push({
        event: field("event") ?? "message",
        data: JSON.parse(field("data") ?? "null"),
        ...(id === undefined ? {} : { id })
      })
    }
    return { status: res.status, contentType: res.headers.get("content-type"), events }
  })

/** A load long enough to watch and cancel: three months of 1-min bars from a slow gateway. */
const longLoad = { symbol: "AAPL", timeframe: "1m", mode: "full", start_date: "2025-01-02", end_date: "2025-04-01" }

describe("operations API", () => {
  it.live("async load: operation id at once, SSE progress to a completed end event, result_summary measured", () =>
    Effect.gen(function*() {
      const s = yield* startServer({ sim: { latencyMs: 30 } })
      const start = yield* raw(
        s.baseUrl,
        "/api/v1/data/load?async_mode=true",
        json({ symbol: "AAPL", timeframe: "1h", mode: "full", start_date: "2025-01-02", end_date: "2025-03-01" })
      )
      expect(start.status).toBe(200)
      expect(start.json.data.status).toBe("started")
      const id: string = start.json.data.operation_id
      expect(id).toMatch(/^op_data_load_\d{8}_\d{6}_[0-9a-f]{8}$/)

      const sse = yield* readSse(`${s.baseUrl}/api/v1/operations/${id}/events`)
      expect(sse.status).toBe(200)
      expect(sse.contentType).toContain("text/event-stream")
      const last = sse.events.at(-1)!
      expect(last.event).toBe("end")
      expect(last.data.status).toBe("completed")
      expect(sse.events.slice(0, -1).every((e) => e.event === "progress")).toBe(true)
      const pct = sse.events.map((e) => e.data.progress.percentage as number)
      expect(pct.every((p, i) => i === 0 || p >= pct[i - 1]!)).toBe(true)
      expect(last.data.progress.percentage).toBe(100)

      const summary = last.data.result_summary
      const stored = (yield* Effect.promise(() =>
        readFile(`${s.dataDir}/AAPL_1h.csv`, "utf8")
      )).trim().split("\n").length - 1
      expect(summary.total_bars).toBe(stored)
      expect(summary.fetched_bars).toBeGreaterThan(0)
      expect(summary.ib_requests_made).toBe(s.sim.stats().requests.historical)
      expect(summary.merged_file).toBe("AAPL_1h.csv")
      expect(summary.quality).toMatchObject({ checked_bars: summary.fetched_bars, errors: 0 })

      const got = yield* raw(s.baseUrl, `/api/v1/operations/${id}`)
      expect(got.json.data.status).toBe("completed")
      expect(got.json.data.duration_seconds).toBeGreaterThan(0)

      // The derived client reads the same registry.
      const client = yield* apiClient(s.baseUrl)
      const list = yield* client.operations.list({ urlParams: {} })
      expect(list.total_count).toBe(1)
      expect(list.active_count).toBe(0)
      expect(list.data[0]!.operation_id).toBe(id)
    }).pipe(Effect.scoped))

  it.live(
    "cancel mid-load: operation cancelled, checkpoint on disk, SSE ends with cancelled",
    () =>
      Effect.gen(function*() {
        const s = yield* startServer({ sim: { latencyMs: 150 }, data: { checkpointEverySegments: 2 } })
        const start = yield* raw(s.baseUrl, "/api/v1/data/load?async_mode=true", json(longLoad))
        const id: string = start.json.data.operation_id
        const sseFiber = yield* Effect.fork(readSse(`${s.baseUrl}/api/v1/operations/${id}/events`))
        // Wait until some segments are in.
        for (let i = 0; i < 200; i++) {
          const st = yield* raw(s.baseUrl, `/api/v1/operations/${id}`)
          if ((st.json.data.progress.items_processed ?? 0) >= 4) break
          yield* Effect.sleep("50 millis")
        }
        const cancel = yield* raw(s.baseUrl, `/api/v1/operations/${id}`, json({ reason: "test says stop" }, "DELETE"))
        expect(cancel.status).toBe(200)
        expect(cancel.json.data.status).toBe("cancelled")
        expect(cancel.json.data.task_cancelled).toBe(true)
        expect(cancel.json.data.cancellation_reason).toBe("test says stop")
        const op = cancel.json.data.operation
        expect(op.error_message).toBe("test says stop")
        expect(op.result_summary.fetched_bars).toBeGreaterThan(0)
        // The checkpoint is on disk when DELETE answers: the bars fetched so far are stored.
        const lines = (yield* Effect.promise(() =>
          readFile(`${s.dataDir}/AAPL_1m.csv`, "utf8")
        )).trim().split("\n").length - 1
        expect(lines).toBe(op.result_summary.fetched_bars)
        expect(op.result_summary.segments_fetched).toBeLessThan(op.result_summary.segments_planned)

        const sse = yield* sseFiber.await.pipe(Effect.flatMap((x) => x))
        expect(sse.events.at(-1)!.event).toBe("end")
        expect(sse.events.at(-1)!.data.status).toBe("cancelled")

        // A second cancel is a conflict, in the envelope.
        const again = yield* raw(s.baseUrl, `/api/v1/operations/${id}`, { method: "DELETE" })
        expect(again.status).toBe(409)
        expect(again.json).toMatchObject({ success: false, data: null, error: { code: "OPERATIONS-InvalidState" } })
        expect(again.json.error.message).toContain("status: cancelled")

        // Retry runs the same request again, to completion, from what the checkpoint kept.
        const before = s.sim.stats().requests.historical
        const retry = yield* raw(s.baseUrl, `/api/v1/operations/${id}/retry`, { method: "POST" })
        expect(retry.status).toBe(200)
        expect(retry.json.data.retry_of).toBe(id)
        expect(retry.json.data.operation_id).toMatch(/^op_retry_data_load_/)
        const end = yield* readSse(`${s.baseUrl}/api/v1/operations/${retry.json.data.operation_id}/events`)
        const final = end.events.at(-1)!.data
        expect(final.status).toBe("completed")
        expect(final.result_summary.segments_planned).toBeLessThan(op.result_summary.segments_planned)
        expect(s.sim.stats().requests.historical - before).toBe(final.result_summary.ib_requests_made)
        expect(final.result_summary.gaps_left).toBe(0)
      }).pipe(Effect.scoped),
    120_000
  )

  it.live("a failed load keeps its IB code; retry really runs it again", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      const start = yield* raw(
        s.baseUrl,
        "/api/v1/data/load?async_mode=true",
        json({ symbol: "NOSUCH", timeframe: "1d", mode: "tail" })
      )
      const id: string = start.json.data.operation_id
      const sse = yield* readSse(`${s.baseUrl}/api/v1/operations/${id}/events`)
      const failed = sse.events.at(-1)!.data
      expect(failed.status).toBe("failed")
      expect(failed.failure.code).toBe("IB-200")
      expect(failed.error_message).toContain("IB-200")
      const lookupsBefore = s.sim.stats().requests.contractDetails
      const retry = yield* raw(s.baseUrl, `/api/v1/operations/${id}/retry`, { method: "POST" })
      expect(retry.status).toBe(200)
      const again = yield* readSse(`${s.baseUrl}/api/v1/operations/${retry.json.data.operation_id}/events`)
      expect(again.events.at(-1)!.data.status).toBe("failed")
      // The retry asked the gateway again (the contract lookups went out a second time).
      expect(s.sim.stats().requests.contractDetails).toBeGreaterThan(lookupsBefore)
      // A completed operation cannot be retried.
      const ok = yield* raw(s.baseUrl, "/api/v1/data/load", json({ symbol: "AAPL", timeframe: "1d", mode: "tail" }))
      const r = yield* raw(s.baseUrl, `/api/v1/operations/${ok.json.data.operation_id}/retry`, { method: "POST" })
      expect(r.status).toBe(409)
    }).pipe(Effect.scoped))

  it.live("list filters, paging and validation; unknown ids and bad input in the envelope", () =>
    Effect.gen(function*() {
      const s = yield* startServer()
      for (const sym of ["AAPL", "MSFT", "NOSUCH"]) {
        yield* raw(s.baseUrl, "/api/v1/data/load", json({ symbol: sym, timeframe: "1d", mode: "tail" }))
      }
      const all = yield* raw(s.baseUrl, "/api/v1/operations")
      expect(all.json.total_count).toBe(3)
      const failed = yield* raw(s.baseUrl, "/api/v1/operations?status=failed")
      expect(failed.json.data.map((o: any) => o.symbol)).toEqual(["NOSUCH"])
      const page = yield* raw(s.baseUrl, "/api/v1/operations?limit=1&offset=1")
      expect(page.json.data).toHaveLength(1)
      expect(page.json.total_count).toBe(3)
      const newestFirst = all.json.data.map((o: any) => o.created_at)
      expect([...newestFirst].sort().reverse()).toEqual(newestFirst)

      for (const q of ["status=done", "limit=0", "limit=1001", "offset=-1", "active_only=maybe", "operation_type=x"]) {
        const r = yield* raw(s.baseUrl, `/api/v1/operations?${q}`)
        expect(r.status, q).toBe(400)
        expect(r.json.error.code, q).toBe("VALIDATION_ERROR")
      }
      const missing = yield* raw(s.baseUrl, "/api/v1/operations/op_nope")
      expect(missing.status).toBe(404)
      expect(missing.json).toEqual({
        success: false,
        data: null,
        error: {
          code: "OPERATIONS-NotFound",
          message: "Operation not found: op_nope",
          details: { operation_id: "op_nope" }
        },
        detail: "Operation not found: op_nope",
        message: "Operation not found: op_nope"
      })
      const sse = yield* raw(s.baseUrl, "/api/v1/operations/op_nope/events")
      expect(sse.status).toBe(404)
      const badBody = yield* raw(s.baseUrl, `/api/v1/operations/${all.json.data[0].operation_id}`, {
        method: "DELETE",
        body: "{nope",
        headers: { "content-type": "application/json" }
      })
      expect(badBody.status).toBe(400)
      const files = yield* Effect.promise(() => readdir(s.dataDir))
      expect(files.filter((f) => f.endsWith(".csv")).sort()).toEqual(["AAPL_1d.csv", "MSFT_1d.csv"])
    }).pipe(Effect.scoped))
})
