/**
 * The command lines the `data show` lane reads itself (showArgs.ts), and a sample of those it must leave to the
 * full program; test/cli/showLane.test.ts holds its answers equal to the full program's on real servers.
 */
import { describe, expect, it } from "vitest"
import { parseShowArgs } from "../../src/cli/showArgs.ts"

const env = { KTRDR_API_URL: "http://127.0.0.1:9999/" }

describe("parseShowArgs", () => {
  it("reads the plain subset: one symbol, each option once, in any order and spelling", () => {
    const r = parseShowArgs(
      ["--rows=3", "aapl", "-t", "1h", "--start", "2025-01-01", "--trading-hours", "-f", "json", "--include-extended"],
      { ...env, KTRDR_API_TOKEN: "tok" }
    )
    expect(r._tag).toBe("Lane")
    if (r._tag !== "Lane") return
    expect(r.request.url.href).toBe(
      "http://127.0.0.1:9999/api/v1/data/aapl/1h?start_date=2025-01-01&trading_hours_only=true&include_extended=true" +
        "&limit=3"
    )
    expect(r.request.headers).toEqual({ authorization: "Bearer tok" })
    expect(r.request.view).toEqual({
      symbol: "aapl",
      timeframe: "1h",
      rows: 3,
      format: "json",
      tradingHours: true,
      includeExtended: true,
      datesGiven: true
    })
  })

  it("uses --url over KTRDR_API_URL over the default, and sends no empty token", () => {
    const at = (args: ReadonlyArray<string>, e: Record<string, string>) => {
      const r = parseShowArgs(args, e)
      return r._tag === "Lane" ? [r.request.url.origin, r.request.headers] : r.reason
    }
    expect(at(["X", "--url", "http://h:1"], env)).toEqual(["http://h:1", {}])
    expect(at(["X"], { ...env, KTRDR_API_TOKEN: "" })).toEqual(["http://127.0.0.1:9999", {}])
    expect(at(["X"], {})).toEqual(["http://127.0.0.1:8000", {}])
  })

  it.each([
    [["AAPL", "--help"]],
    [["AAPL", "-h"]],
    [["AAPL", "--verbose"]],
    [["AAPL", "--embedded"]],
    [["AAPL", "--"]],
    [[]],
    [["AAPL", "MSFT"]],
    [["bad/sym"]],
    [[" AAPL"]],
    [["AAPL", "-t", "1h", "-t", "1d"]],
    [["AAPL", "-t", "1h", "--timeframe=1d"]],
    [["AAPL", "-t", "3h"]],
    [["AAPL", "-t"]],
    [["AAPL", "-r", "0"]],
    [["AAPL", "-r", "100001"]],
    [["AAPL", "-r", "07"]],
    [["AAPL", "-r", "-5"]],
    [["AAPL", "-r=5"]],
    [["AAPL", "--start", "2024-02-30"]],
    [["AAPL", "--start", "2025-02-01", "--end", "2025-01-01"]],
    [["AAPL", "-f", "xml"]],
    [["AAPL", "--trading-hours", "yes"]],
    [["--trading-hours", "1", "AAPL"]],
    [["AAPL", "--trading-hours=true"]],
    [["AAPL", "--url", "https://h:1"]],
    [["AAPL", "--url", "http://u:p@h:1"]],
    [["AAPL", "--url", "nope"]],
    [["AAPL", "--TIMEFRAME", "1h"]]
  ])("declines %j", (args) => {
    expect(parseShowArgs(args, env)._tag).toBe("Decline")
  })
})
