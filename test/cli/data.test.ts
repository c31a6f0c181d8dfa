/** `ktrdr data show|load|range|gaps` against a real server process and simulator process. */
import { createServer } from "node:net"
import { describe, expect, it } from "vitest"
import { baseEnv, ktrdr, useStack } from "./support.ts"

const stack = useStack()
const env = () => stack.env()

/** A port nothing listens on: bound once by us, then released. */
const deadPort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })

describe("data show", () => {
  it("says there is no data (exit 0) before anything is loaded", async () => {
    const r = await ktrdr(["data", "show", "AAPL", "-t", "1h"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("No cached data found for AAPL (1h)")
    expect(r.stdout).toContain("ktrdr data load AAPL -t 1h")
    expect(r.stderr).toBe("")
  })

  it("shows the last rows as an aligned table, valid JSON, or RFC 4180 CSV after a load", async () => {
    const load = await ktrdr(["data", "load", "AAPL", "-t", "1h", "-q"], env())
    expect(load.code).toBe(0)
    expect(load.stdout).toMatch(/Successfully loaded [\d,]+ bars/)

    const table = await ktrdr(["data", "show", "AAPL", "-t", "1h", "-r", "5"], env())
    expect(table.code).toBe(0)
    expect(table.stdout).toContain("📊 AAPL (1h) - Cached Data")
    expect(table.stdout).toMatch(/Total rows: [\d,]+ \| Showing: 5/)
    // The date-range line is real (KTRDR printed "N/A to N/A").
    expect(table.stdout).toMatch(/Date range: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/)
    const rows = table.stdout.split("\n").filter((l) => /^│ \d{4}-/.test(l))
    expect(rows).toHaveLength(5)
    // Aligned: every row has the same width as the header row.
    const header = table.stdout.split("\n").find((l) => l.includes("Date") && l.includes("Volume"))!
    for (const row of rows) expect(row.length).toBe(header.length)

    const json = await ktrdr(["data", "show", "AAPL", "-t", "1h", "-r", "3", "-f", "json"], env())
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.stdout)
    expect(doc).toMatchObject({ symbol: "AAPL", timeframe: "1h", displayed_rows: 3 })
    expect(doc.total_rows).toBeGreaterThan(3)
    expect(doc.data).toHaveLength(3)
    expect(Object.keys(doc.data[0])).toEqual(["index", "Open", "High", "Low", "Close", "Volume"])
    expect(doc.metadata.end_date).toMatch(/Z$/)

    const csv = await ktrdr(["data", "show", "AAPL", "-t", "1h", "-r", "2", "--format", "csv"], env())
    expect(csv.code).toBe(0)
    const lines = csv.stdout.split("\r\n")
    expect(lines[0]).toBe("Date,Open,High,Low,Close,Volume")
    expect(lines).toHaveLength(4) // header, 2 rows, the empty string after the last CRLF
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,[\d.]+,[\d.]+,[\d.]+,[\d.]+,\d+$/)
    expect(doc.data.at(-1).index).toBe(lines[2]!.split(",")[0])
  })

  it("passes the date range and says so when it holds no bars", async () => {
    const r = await ktrdr(["data", "show", "AAPL", "-t", "1h", "--start", "2001-01-01", "--end", "2001-02-01"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("No cached data found for AAPL (1h)")
    expect(r.stdout).toContain("Try adjusting the date range")
    const json = await ktrdr([
      "data",
      "show",
      "AAPL",
      "-t",
      "1h",
      "--start",
      "2001-01-01",
      "--end",
      "2001-02-01",
      "-f",
      "json"
    ], env())
    expect(JSON.parse(json.stdout).total_rows).toBe(0)
    expect(json.stderr).toContain("No cached data found")
  })
})

describe("data load", () => {
  it("reports live progress on stderr, the outcome on stdout, and JSON with -f json", async () => {
    const r = await ktrdr(["data", "load", "MSFT", "-t", "1d"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("🚀 Loading data for MSFT (1d)")
    expect(r.stdout).toMatch(/⚡ Started operation: op_data_load_\d{8}_\d{6}_[0-9a-f]{8}/)
    expect(r.stdout).toMatch(/✅ Successfully loaded [\d,]+ bars/)
    expect(r.stdout).toMatch(/⏱️ {2}Duration: [\d.]+s/)
    // Progress lines come from the SSE stream: the load's phases, in KTRDR's names.
    expect(r.stderr).toContain("fetching_segments")
    expect(r.stderr).toMatch(/done .*100%/)

    const json = await ktrdr(["data", "load", "MSFT", "-t", "1d", "-f", "json"], env())
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.stdout)
    expect(doc).toMatchObject({ symbol: "MSFT", timeframe: "1d", mode: "tail", success: true, status: "success" })
    expect(doc.operation_id).toMatch(/^op_data_load_/)
    expect(typeof doc.bars_loaded).toBe("number")
    expect(json.stderr).toBe("")
  })

  it("fails with the IB code for an unknown symbol (exit 1)", async () => {
    const r = await ktrdr(["data", "load", "ZZZZQ", "-t", "1h", "--no-progress"], env())
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("❌ Data loading failed!")
    expect(r.stderr).toContain("[IB-200]")
    expect(r.stderr).toMatch(/ZZZZQ not found/)
    const json = await ktrdr(["data", "load", "ZZZZQ", "-t", "1h", "-f", "json"], env())
    expect(json.code).toBe(1)
    const doc = JSON.parse(json.stdout)
    expect(doc).toMatchObject({ success: false, status: "failed", error: { code: "IB-200" } })
  })
})

describe("data range and gaps", () => {
  it("range: no data (exit 0), then the stored span", async () => {
    const none = await ktrdr(["data", "range", "NVDA", "-t", "1h"], env())
    expect(none.code).toBe(0)
    expect(none.stdout).toContain("No cached data found for NVDA (1h)")
    await ktrdr(["data", "load", "NVDA", "-t", "1h", "-q"], env())
    const r = await ktrdr(["data", "range", "NVDA", "-t", "1h"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("📅 NVDA (1h) - Data Range")
    expect(r.stdout).toMatch(/│ Data Points +│ [\d,]+ +│/)
    const json = JSON.parse((await ktrdr(["data", "range", "NVDA", "-t", "1h", "-f", "json"], env())).stdout)
    expect(json.range.point_count).toBeGreaterThan(0)
  })

  it("gaps: summary, breakdown and recommendations; JSON with -f json", async () => {
    const r = await ktrdr(["data", "gaps", "AAPL", "-t", "1h", "--mode", "extended"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("AAPL (1h) - Gap Analysis")
    expect(r.stdout).toMatch(/│ Expected Bars +│ [\d,]+ +│/)
    expect(r.stdout).toContain("Missing Bars Breakdown")
    expect(r.stdout).toContain("Detailed Gaps")
    const doc = JSON.parse((await ktrdr(["data", "gaps", "AAPL", "-t", "1h", "-f", "json"], env())).stdout)
    expect(doc.summary.actual_bars).toBeGreaterThan(0)
  })
})

describe("usage errors (exit 2) and an absent server (exit 1)", () => {
  it.each([
    [["data", "show"], /missing argument SYMBOL/],
    [["data", "show", "AAPL", "-t", "7h"], /1s, 5s/],
    [["data", "show", "AA/PL"], /SYMBOL .AA\/PL. is not a symbol/],
    [["data", "show", "AAPL", "--start", "2024-13-45"], /date|YYYY-MM-DD/],
    [["data", "show", "AAPL", "--start", "2024-03-01", "--end", "2024-02-01"], /--start \(2024-03-01\) is after --end/],
    [["data", "show", "AAPL", "-r", "0"], /--rows must be/],
    [["data", "load", "AAPL", "-m", "local"], /tail, backfill, full|tail/],
    [["data", "show", "AAPL", "--url", "not a url"], /URL/],
    [["data", "frobnicate"], /./]
  ])("%j", async (args, message) => {
    const r = await ktrdr(args, baseEnv({ KTRDR_API_URL: stack.server().url }))
    expect(r.code).toBe(2)
    expect(r.stdout + r.stderr).toMatch(message)
  })

  it("accepts the timeframes KTRDR's CLI refused (1w, 1M)", async () => {
    const r = await ktrdr(["data", "show", "AAPL", "-t", "1w"], env())
    expect(r.code).toBe(0)
  })

  it("says in one line that no server is there, and never retries", async () => {
    const port = await deadPort()
    const url = `http://127.0.0.1:${port}`
    for (const args of [["data", "show", "AAPL"], ["data", "load", "AAPL"], ["operations", "list"], ["ib", "status"]]) {
      const r = await ktrdr([...args, "--url", url])
      expect(r.code).toBe(1)
      expect(r.stdout).toBe("")
      expect(r.stderr.trim().split("\n").filter((l) => l.startsWith("Error"))).toEqual([
        `Error: no ktrdr server at ${url} (ECONNREFUSED); start one with \`ktrdr serve\` or use \`--embedded\``
      ])
    }
    // KTRDR_API_URL is the fallback for --url.
    const viaEnv = await ktrdr(["data", "show", "AAPL"], baseEnv({ KTRDR_API_URL: url }))
    expect(viaEnv.stderr).toContain(`no ktrdr server at ${url}`)
  })
})
