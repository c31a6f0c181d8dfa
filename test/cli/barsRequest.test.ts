/**
 * `data show`'s own GET (src/cli/barsRequest.ts) against the client derived from the contract, on the same
 * answers from a server on an ephemeral port: the same request on the wire (path, query, token), the same
 * value or the same failure (class, fields, message); and the fast path answers the expected answers
 * itself (one request), sending anything else again through the derived client (two).
 */
import { Cause, Effect, Exit, Option } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { barsRequest } from "../../src/cli/barsRequest.ts"
import { derivedClient } from "../../src/cli/remoteDerived.ts"

interface Answer {
  readonly status: number
  readonly body: string
}

const seen: Array<{ readonly url: string; readonly auth: string | undefined }> = []
let answer: Answer = { status: 200, body: "" }
const server = Http.createServer((req, res) => {
  seen.push({ url: req.url ?? "", auth: req.headers.authorization })
  res.writeHead(answer.status, { "content-type": "application/json" }).end(answer.body)
})
let baseUrl = ""
const agent = new Http.Agent({ keepAlive: true })

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  agent.destroy()
  await new Promise((r) => server.close(r))
})

const bars = {
  success: true,
  data: {
    dates: ["2024-01-02T14:30:00", "2024-01-02T15:00:00"],
    ohlcv: [[1, 2, 0.5, 1.5, 100], [1.5, 2.5, 1, null, 0]],
    points: null,
    metadata: {
      symbol: "AAPL",
      timeframe: "1h",
      start_date: "2024-01-02T14:30:00+00:00",
      end_date: "2024-01-02T15:00:00+00:00",
      point_count: 2,
      start: "2024-01-02T14:30:00",
      end: "2024-01-02T15:00:00",
      points: 2,
      total_count: 2,
      range_start_date: "2024-01-02T14:30:00Z",
      trading_hours_only: false,
      include_extended: false,
      filter_calendar: null,
      incomplete_bars: 1
    }
  },
  error: null
}
const failure = (code: string, message: string, details: unknown = null) =>
  JSON.stringify({ success: false, data: null, error: { code, message, details }, detail: message, message })

/** What a failure is, as a user sees it: its class, its fields, its message. */
const shape = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.match(exit, {
    onSuccess: (value) => ({ value }),
    onFailure: (cause) => {
      const e = Option.getOrElse(Cause.failureOption(cause), () => ({ defect: Cause.pretty(cause) })) as Record<
        string,
        unknown
      >
      const c = e["cause"] as { code?: string } | undefined
      return {
        tag: e["_tag"],
        message: e["message"],
        code: e["code"],
        details: e["details"],
        reason: e["reason"],
        cause: c?.code
      }
    }
  })

const compare = async (
  a: Answer,
  request: Parameters<ReturnType<typeof barsRequest>>[0],
  token: Option.Option<string> = Option.none(),
  url = baseUrl
) => {
  answer = a
  const o = { baseUrl: url, token }
  const derived = await Effect.runPromise(derivedClient(o, { http: agent, https: undefined as never }))
  seen.length = 0
  const before = await Effect.runPromiseExit(derived.api.data.bars(request))
  const derivedSeen = [...seen]
  seen.length = 0
  const fast = barsRequest({ ...o, agent, fallback: derived.api.data.bars })
  const after = await Effect.runPromiseExit(fast(request))
  return { derived: shape(before), fast: shape(after), derivedSeen, fastSeen: [...seen] }
}

const show = { path: { symbol: "AAPL", timeframe: "1h" as const }, urlParams: { limit: 10 } }

describe("data show's GET /data", () => {
  it("sends what the derived client sends and decodes a 200 to the same value, in one request", async () => {
    const full = {
      path: { symbol: "eur.usd", timeframe: "1d" as const },
      urlParams: {
        start_date: "2024-01-01",
        end_date: "2024-02-01T10:00:00",
        trading_hours_only: true,
        include_extended: true,
        limit: 5
      }
    }
    for (const [request, token] of [[show, Option.none()], [full, Option.some("s3cret")]] as const) {
      const r = await compare({ status: 200, body: JSON.stringify(bars) }, request, token)
      expect(r.fast).toEqual(r.derived)
      expect(r.fast).toHaveProperty("value.data.metadata.incomplete_bars", 1)
      expect(r.fastSeen).toEqual(r.derivedSeen)
      expect(r.fastSeen).toHaveLength(1)
    }
  })

  it("fails with the derived client's error class for each declared status, in one request", async () => {
    const cases: ReadonlyArray<readonly [number, string]> = [
      [400, failure("DATA-BadRange", "start after end")],
      [401, failure("AUTH-Required", "token please")],
      [404, failure("DATA-NotFound", "no AAPL 1h", { symbol: "AAPL" })],
      [500, failure("STORE-Failed", "disk on fire", { ib_code: 162, req_id: 4 })]
    ]
    for (const [status, body] of cases) {
      const r = await compare({ status, body }, show)
      expect(r.fast).toEqual(r.derived)
      expect(r.fast).toHaveProperty(
        "tag",
        expect.stringMatching(/^(BadRequest|Unauthorized|NotFoundError|InternalError)$/)
      )
      expect(r.fastSeen).toHaveLength(1)
    }
  })

  it("leaves every other answer to the derived client, which fails as before", async () => {
    const cases: ReadonlyArray<Answer> = [
      { status: 503, body: failure("IB-Unavailable", "no gateway") },
      { status: 302, body: "" },
      { status: 200, body: "not json" },
      { status: 200, body: JSON.stringify({ ...bars, data: { ...bars.data, dates: [1] } }) },
      { status: 404, body: "<html>not found</html>" },
      { status: 400, body: JSON.stringify({ _tag: "HttpApiDecodeError", issues: [], message: "bad" }) }
    ]
    for (const a of cases) {
      const r = await compare(a, show)
      expect(r.fast).toEqual(r.derived)
      expect(r.fast).toHaveProperty("tag")
      expect(r.fastSeen).toHaveLength(2)
    }
  })

  it("fails a bad request before sending it, and a refused connection as the platform's transport error", async () => {
    const long = await compare({ status: 200, body: "" }, { ...show, path: { ...show.path, symbol: "X".repeat(65) } })
    expect(long.fast).toEqual(long.derived)
    expect(long.fast).toHaveProperty("tag", "ParseError")
    expect(long.fastSeen).toHaveLength(0)
    const closed = Http.createServer()
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r))
    const port = (closed.address() as AddressInfo).port
    await new Promise((r) => closed.close(r))
    const refused = await compare({ status: 200, body: "" }, show, Option.none(), `http://127.0.0.1:${port}`)
    expect(refused.fast).toEqual(refused.derived)
    expect(refused.fast).toMatchObject({ tag: "RequestError", reason: "Transport", cause: "ECONNREFUSED" })
  })
})
