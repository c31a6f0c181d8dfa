/**
 * Help a person can read and usage errors that say what was wrong: run through the bundled bin as a
 * user runs it, with stdout and stderr piped (so: no ANSI, 80 columns).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { ensureBuilt, ktrdr } from "./support.ts"

beforeAll(() => ensureBuilt(), 180_000)

const PAGES = [
  ["--help"],
  ["data", "--help"],
  ["data", "show", "--help"],
  ["data", "load", "--help"],
  ["data", "range", "--help"],
  ["data", "gaps", "--help"],
  ["operations", "--help"],
  ["operations", "list", "--help"],
  ["operations", "status", "--help"],
  ["operations", "cancel", "--help"],
  ["operations", "retry", "--help"],
  ["ib", "--help"],
  ["ib", "status", "--help"],
  ["ib", "health", "--help"],
  ["ib", "symbol", "--help"],
  ["serve", "--help"],
  ["sim", "--help"]
]

describe("help", () => {
  it(
    "every page: the full command path, no ANSI in a pipe, ≤ 80 columns, no parser boilerplate, examples",
    async () => {
      for (const args of PAGES) {
        const r = await ktrdr(args)
        const where = args.join(" ")
        expect(r.code, where).toBe(0)
        const path = ["ktrdr", ...args.filter((a) => a !== "--help")].join(" ")
        expect(r.stdout.startsWith(`Usage: ${path} `), where).toBe(true)
        expect(r.stdout, where).not.toMatch(/\x1b\[/)
        for (const line of r.stdout.split("\n")) expect(line.length, `${where}: ${line}`).toBeLessThanOrEqual(80)
        for (const noise of ["This setting is optional", "A user-defined piece of text", "--wizard", "--completions"]) {
          expect(r.stdout, where).not.toContain(noise)
        }
        expect(r.stdout, where).toMatch(/\nExamples:\n {2}ktrdr /)
        expect(r.stderr, where).toBe("")
      }
    },
    120_000
  )

  it("defaults shown: timeframe 1d, rows 10, mode tail, format table; load offers only what it accepts", async () => {
    const show = (await ktrdr(["data", "show", "--help"])).stdout
    expect(show).toMatch(/-t, --timeframe TIMEFRAME[\s\S]*\[default: 1d\]/)
    expect(show).toMatch(/-r, --rows N[\s\S]*\[default: 10\]/)
    const load = (await ktrdr(["data", "load", "--help"])).stdout
    expect(load).toMatch(/-m, --mode MODE[\s\S]*\[default: tail\]/)
    expect(load).toMatch(/output: table, json \(json prints nothing else on\s+stdout\)/)
    expect(load).not.toMatch(/csv/)
  })

  it("the bare bin shows the overview, the same page as --help", async () => {
    const bare = await ktrdr([])
    expect(bare.code).toBe(0)
    expect(bare.stdout).toBe((await ktrdr(["--help"])).stdout)
    expect(bare.stdout).toMatch(/^Usage: ktrdr COMMAND/)
  })
})

/** [args, what stderr's one line must contain] */
const USAGE_ERRORS: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
  [["data", "show", "AAPL", "-t", "3h"], ["ktrdr data show:", "-t '3h'", "1s, 5s", "1M"]],
  [["data", "show", "AAPL", "--timeframe=3h"], ["--timeframe '3h'", "one of: 1s"]],
  [["data", "show", "AAPL", "--start", "12/01/2026"], ["--start '12/01/2026'", "YYYY-MM-DD"]],
  [["data", "show", "AAPL", "--start", "2024-02-30"], ["--start '2024-02-30'", "not a calendar date"]],
  [["data", "show", "AAPL", "--url", "not a url"], ["--url 'not a url'", "http://"]],
  [["data", "show", "AAPL", "-r", "abc"], ["-r 'abc'", "integer"]],
  [["data", "load", "AAPL", "-f", "csv"], ["ktrdr data load:", "-f 'csv'", "table, json"]],
  [["data", "shw", "AAPL"], ["ktrdr data:", "'shw'", "did you mean 'show'", "show, load, range, gaps"]],
  [["frobnicate"], ["ktrdr:", "'frobnicate'", "data, operations, ib, serve, sim"]],
  [["data"], ["ktrdr data:", "missing command", "show, load"]],
  [["data", "show"], ["ktrdr data show:", "missing argument SYMBOL"]]
]

describe("usage errors", () => {
  it.each(USAGE_ERRORS)(
    "%j: one line naming the option, the value and what is accepted; exit 2",
    async (args, parts) => {
      const r = await ktrdr([...args])
      expect(r.code).toBe(2)
      expect(r.stdout).toBe("")
      const lines = r.stderr.trimEnd().split("\n")
      expect(lines).toHaveLength(1)
      for (const p of parts) expect(lines[0]).toContain(p)
      expect(lines[0]).toMatch(/\(see 'ktrdr[a-z ]*--help'\)$/)
      expect(lines[0]).not.toMatch(/refinement|└─|\{ /)
    }
  )
})
