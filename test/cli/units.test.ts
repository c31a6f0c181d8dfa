/** The CLI's pure pieces: SSE framing, number and time formats, progress lines, error messages and exit codes. */
import { Chunk, Effect, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { describe as describeError, ServerUnreachable, UsageError } from "../../src/cli/errors.ts"
import { eta, fmtEta, lineOf, renderLine } from "../../src/cli/progress.ts"
import type { OperationInfo } from "../../src/domain/operation.ts"
import { csv, fmtDuration, fmtInt, fmtTime } from "../../src/cli/render.ts"
import { sseEvents } from "../../src/cli/sse.ts"
import { GatewayError, NotFoundError } from "../../src/contract/envelope.ts"
import { frame } from "../../src/http/sse.ts"

const collect = (chunks: ReadonlyArray<string>) =>
  Effect.runPromise(Stream.runCollect(sseEvents(Stream.fromIterable(chunks))).pipe(Effect.map(Chunk.toReadonlyArray)))

describe("sse decoder", () => {
  it("decodes the server's own frames, split anywhere, and skips comments", async () => {
    const text = frame({ id: 0, event: "progress", data: { a: 1 } }) + ": keep-alive\n\n" +
      frame({ id: 1, event: "end", data: { a: "x\ny" } })
    for (const cut of [1, 7, 13, text.length - 3]) {
      const events = await collect([text.slice(0, cut), text.slice(cut)])
      expect(events).toEqual([
        { event: "progress", data: "{\"a\":1}", id: "0" },
        { event: "end", data: "{\"a\":\"x\\ny\"}", id: "1" }
      ])
    }
  })

  it("joins multi-line data and defaults the event name", async () => {
    expect(await collect(["data: a\ndata: b\n\n"])).toEqual([{ event: "message", data: "a\nb", id: undefined }])
  })
})

describe("formats", () => {
  it("integers with thousands separators, KTRDR's durations, UTC times", () => {
    expect([0, 999, 1000, 148670.4, -1234567].map(fmtInt)).toEqual(["0", "999", "1,000", "148,670", "-1,234,567"])
    expect([12.34, 270, 4320, null].map(fmtDuration)).toEqual(["12.3s", "4.5m", "1.2h", "N/A"])
    expect(fmtTime("2025-05-22T08:00:00Z")).toBe("2025-05-22 08:00:00")
    expect(fmtTime(null)).toBe("N/A")
  })

  it("csv quotes per RFC 4180 and ends records with CRLF", () => {
    expect(csv(["a", "b"], [["x,y", "say \"hi\""]])).toBe("a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n")
  })

  it("progress: ETA from the average rate, a bar only on terminals", () => {
    expect(eta(25, 10)).toBe(30)
    expect(eta(0, 10)).toBeNull()
    expect(fmtEta(3725)).toBe("1:02:05")
    const line = { phase: "fetching_segments", percentage: 50, segments: "3/6", bars: 1234, etaSeconds: 5 }
    expect(renderLine(line, false)).toBe("fetching_segments  segment 3/6  1,234 bars   50%  ETA 00:05")
    expect(renderLine(line, true)).toMatch(/^\[█{12}░{12}\] fetching_segments/)
  })

  it("progress while waiting for the gateway: the wait alone, no percentage or ETA; the ETA restarts after it", () => {
    const info = {
      status: "running",
      progress: {
        percentage: 96,
        current_step: "waiting for gateway: attempt 3, next try in 8 s",
        steps_completed: 5,
        steps_total: 8,
        items_processed: 20,
        items_total: 21,
        current_item: null,
        phase: "waiting_for_gateway",
        bars_fetched: 900
      }
    } as unknown as OperationInfo
    const line = lineOf(info, 250)
    expect(renderLine(line, false)).toBe("waiting for gateway: attempt 3, next try in 8 s")
    expect(renderLine(line, true)).not.toMatch(/%|ETA/)
    // Resumed at 40 %, 10 s later at 50 %: 10 % per 10 s, not the average since a start long ago.
    expect(eta(50, 10, 40)).toBe(50)
    expect(eta(40.2, 10, 40)).toBeNull()
  })
})

describe("error messages and exit codes", () => {
  it("keeps the IB code, request id, category and suggestions", () => {
    const e = new GatewayError({
      code: "IB-162",
      message: "Historical data request pacing violation",
      details: { ib_code: 162, req_id: 7, category: "pacing" }
    })
    expect(describeError(e, "x")).toEqual({
      lines: ["Error: Historical data request pacing violation [IB-162]", "  IB error 162, request 7, pacing"],
      code: 1
    })
    const n = new NotFoundError({
      code: "IB-200",
      message: "Symbol APPL not found",
      details: { ib_code: 200, req_id: 3, suggestions: ["AAPL"] }
    })
    expect(describeError(n, "x").lines).toContain("  Did you mean: AAPL?")
  })

  it("usage errors exit 2; an absent server is one line", () => {
    expect(describeError(new UsageError({ message: "bad" }), "x").code).toBe(2)
    expect(describeError(new ServerUnreachable({ url: "http://h:1", code: "ECONNREFUSED" }), "x").lines).toEqual([
      "Error: no ktrdr server at http://h:1 (ECONNREFUSED); start one with `ktrdr serve` or use `--embedded`"
    ])
  })
})
