/**
 * The `data show` lane (src/app/cliShow.ts) against the full program, both as the BUILT package bin
 * (dist/ktrdr.cjs) runs them — the lane, and the same command with KTRDR_NO_SHOW_LANE=1 — against real
 * `ktrdr serve --sim` processes with seeded data (one open, one with KTRDR_API_TOKEN) and a port where nothing
 * listens: for generated command lines over `data show`'s options (valid and invalid values, every spelling the
 * lane reads and some it must decline, missing series, wrong tokens, a server that is down), stdout, stderr and
 * the exit code are identical. The plain lines must be answered by the lane itself (its KTRDR_TIMING mark), so the
 * comparison cannot pass by the lane always declining.
 */
import fc from "fast-check"
import { spawn } from "node:child_process"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { mkdtemp } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort } from "../support/freePort.ts"
import { baseEnv, ensureBuilt, ktrdr, type Proc, removeDir, ROOT, runFile, spawnKtrdr } from "./support.ts"

const BIN = join(ROOT, "dist", "ktrdr.cjs")
const TOKEN = "s3cret-token"

interface Server {
  readonly url: string
  readonly dir: string
  readonly proc: Proc
}

const startServer = async (extra: Record<string, string> = {}): Promise<Server> => {
  const dir = await mkdtemp(join(tmpdir(), "ktrdr-lane-"))
  const proc = spawnKtrdr(
    ["serve", "--sim", "--port", "0"],
    baseEnv({ KTRDR_DATA_DIR: dir, KTRDR_LOG_LEVEL: "Info", ...extra })
  )
  const m = await proc.waitFor(/Listening on (http:\/\/[\d.:]+)/, 60_000)
  await proc.waitFor(/IB: ready/, 60_000)
  return { url: m[1]!, dir, proc }
}

let open: Server | undefined
let guarded: Server | undefined
let down = ""

beforeAll(async () => {
  await ensureBuilt()
  ;[open, guarded] = await Promise.all([startServer(), startServer({ KTRDR_API_TOKEN: TOKEN })])
  down = `http://127.0.0.1:${await freePort()}`
  for (const [symbol, tf] of [["AAPL", "1h"], ["MSFT", "1d"]] as const) {
    for (const [s, token] of [[open, ""], [guarded, TOKEN]] as const) {
      const r = await ktrdr(
        ["data", "load", symbol, "-t", tf, "-q"],
        baseEnv({ KTRDR_API_URL: s.url, ...(token ? { KTRDR_API_TOKEN: token } : {}) })
      )
      if (r.code !== 0) throw new Error(`seeding ${symbol} ${tf}: ${r.stderr}`)
    }
  }
}, 240_000)

afterAll(async () => {
  await Promise.all([open?.proc.stop(), guarded?.proc.stop()])
  await Promise.all([removeDir(open?.dir), removeDir(guarded?.dir)])
})

const run = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => runFile(BIN, args, env)

/** What a test sets: the server env var, a token, and the arguments after `data show`. */
interface Case {
  readonly args: ReadonlyArray<string>
  readonly url: "open" | "guarded" | "down"
  readonly token?: string | undefined
}

const urlOf = (u: Case["url"]) => (u === "open" ? open!.url : u === "guarded" ? guarded!.url : down)

const envOf = (c: Case, extra: Record<string, string> = {}) =>
  baseEnv({ KTRDR_API_URL: urlOf(c.url), ...(c.token === undefined ? {} : { KTRDR_API_TOKEN: c.token }), ...extra })

/**
 * Runs the case both ways; returns whether the lane answered (its KTRDR_TIMING line carries `"lane":1`), and
 * its KTRDR_ notes (why it declined).
 */
const compare = async (c: Case): Promise<{ readonly answered: boolean; readonly notes: string }> => {
  const args = ["data", "show", ...c.args.map((a) => a.replace("{open}", open!.url).replace("{down}", down))]
  const [lane, full] = await Promise.all([run(args, envOf(c)), run(args, envOf(c, { KTRDR_NO_SHOW_LANE: "1" }))])
  expect(lane, `ktrdr ${args.join(" ")} (${c.url}, token ${c.token})`).toEqual(full)
  const timed = await run(args, envOf(c, { KTRDR_TIMING: "1" }))
  return {
    answered: /^KTRDR_TIMING .*"lane":1/m.test(timed.stderr),
    notes: timed.stderr.split("\n").filter((l) => l.startsWith("KTRDR_")).join("\n")
  }
}

// Values the lane accepts, and the spellings it reads.
const symbol = fc.constantFrom("AAPL", "aapl", "MSFT", "NOPE", "BRK-B", "EUR.USD")
const timeframe = fc.constantFrom("1h", "1d", "5m", "1M")
const rows = fc.constantFrom("1", "3", "10", "100000")
/** Starts before every end below (--start after --end is a usage error: not plain). */
const date = fc.constantFrom("2025-01-01", "2026-06-30T14:30:00", "2026-01-05T10:00:00Z", "2020-02-29")
const format = fc.constantFrom("table", "json", "csv")
const valued = (names: ReadonlyArray<string>, value: fc.Arbitrary<string>, long: string) =>
  fc.tuple(fc.constantFrom(...names, "="), value).map(([n, v]) => (n === "=" ? [`${long}=${v}`] : [n, v]))

/** Plain lines: each option at most once, valid values, any order. */
const plainArgs = fc.tuple(
  symbol,
  fc.option(valued(["-t", "--timeframe"], timeframe, "--timeframe"), { nil: undefined }),
  fc.option(valued(["-r", "--rows"], rows, "--rows"), { nil: undefined }),
  fc.option(valued(["--start"], date, "--start"), { nil: undefined }),
  fc.option(valued(["--end"], fc.constantFrom("2030-12-31", "2026-12-31T23:59:59"), "--end"), { nil: undefined }),
  fc.option(valued(["-f", "--format"], format, "--format"), { nil: undefined }),
  fc.boolean(),
  fc.boolean(),
  fc.option(fc.constant(["--url", "{open}"]), { nil: undefined })
).chain(([sym, ...opts]) => {
  const [t, r, s, e, f, th, ie, u] = opts
  const groups: Array<ReadonlyArray<string>> = [[sym]]
  for (const g of [t, r, s, e, f, u]) if (g) groups.push(g)
  if (th) groups.push(["--trading-hours"])
  if (ie) groups.push(["--include-extended"])
  return fc.shuffledSubarray(groups, { minLength: groups.length, maxLength: groups.length }).map((gs) => gs.flat())
})

/** Anything else the lane must leave to the full program, mixed into otherwise plain lines. */
const oddToken = fc.constantFrom<ReadonlyArray<string>>(
  ["-t", "3h"],
  ["--timeframe=1H"],
  ["-r", "0"],
  ["--rows", "100001"],
  ["-r", "abc"],
  ["-r", "07"],
  ["--rows=-5"],
  ["--start", "2024-02-30"],
  ["--start", "yesterday"],
  ["--start", "2030-01-01", "--end", "2025-01-01"],
  ["-f", "xml"],
  ["--url", "https://127.0.0.1:9"],
  ["--url", "not a url"],
  ["--url", "{down}"],
  ["--url", "{open}/"],
  ["--url", "{open}//"],
  ["--help"],
  ["-h"],
  ["--verbose"],
  ["-v"],
  ["--"],
  ["EXTRA"],
  ["bad/sym"],
  ["--trading-hours", "yes"],
  ["--trading-hours=true"],
  ["--include-extended", "0"],
  ["-t", "1h"],
  ["--format"],
  ["--nope"],
  ["--TIMEFRAME", "1h"],
  [" AAPL"]
)
const oddArgs = fc.tuple(plainArgs, fc.array(oddToken, { minLength: 1, maxLength: 2 }), fc.nat()).map(
  ([args, odd, at]) => {
    const out = [...args]
    for (const o of odd) out.splice(at % (out.length + 1), 0, ...o)
    return out
  }
)

describe("ktrdr data show: the lane against the full program (built bin, real servers)", () => {
  it("answers the plain lines itself, exactly as the full program does", async () => {
    let answered = 0
    await fc.assert(
      fc.asyncProperty(plainArgs, async (args) => {
        // Once more before failing: a loaded machine can drop a connection (the lane then declines, rightly).
        const r = await compare({ args, url: "open" }).then((x) => (x.answered ? x : compare({ args, url: "open" })))
        if (r.answered) answered++
        else throw new Error(`the lane declined a plain line: ${args.join(" ")}\n${r.notes}`)
      }),
      { numRuns: 40 }
    )
    expect(answered).toBe(40)
  }, 300_000)

  it("declines everything else, and the full program answers as before", async () => {
    await fc.assert(
      fc.asyncProperty(oddArgs, async (args) => void (await compare({ args, url: "open" }))),
      { numRuns: 40 }
    )
  }, 300_000)

  it("reads the server and token from the environment as the full program does", async () => {
    const cases: ReadonlyArray<Case & { readonly lane: boolean }> = [
      { args: ["AAPL", "-t", "1h"], url: "guarded", token: TOKEN, lane: true },
      { args: ["NOPE", "-f", "json"], url: "guarded", token: TOKEN, lane: true },
      { args: ["AAPL", "-t", "1h"], url: "guarded", token: "wrong", lane: false },
      { args: ["AAPL", "-t", "1h"], url: "guarded", lane: false },
      { args: ["AAPL", "-t", "1h"], url: "guarded", token: "", lane: false },
      { args: ["AAPL", "-t", "1h"], url: "open", token: "", lane: true },
      { args: ["AAPL", "-t", "1h"], url: "down", lane: false },
      { args: ["MSFT", "-f", "csv"], url: "down", lane: false },
      { args: ["AAPL", "-t", "1h", "--url", "{open}"], url: "down", lane: true },
      { args: ["AAPL", "-t", "1h", "--url", "{down}"], url: "open", lane: false },
      { args: ["NOPE", "--start", "2025-01-01"], url: "open", lane: true },
      { args: ["NOPE", "-f", "csv"], url: "open", lane: true },
      { args: ["MSFT", "-t", "1d", "--start", "2030-01-01", "-f", "json"], url: "open", lane: true }
    ]
    for (const c of cases) {
      const r = await compare(c)
      expect(r.answered, `lane answered ${c.args.join(" ")} (${c.url}, token ${c.token})\n${r.notes}`).toBe(c.lane)
    }
  }, 300_000)

  it("ends on Ctrl-C or SIGTERM while the server has not answered as the full program does (130, 143)", async () => {
    // A server that takes the request and never answers; the signal is sent once the request has arrived.
    const arrived: Array<() => void> = []
    const stub = createServer(() => arrived.shift()?.())
    await new Promise<void>((r) => stub.listen(0, "127.0.0.1", r))
    const url = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`
    try {
      for (const signal of ["SIGINT", "SIGTERM"] as const) {
        // One after the other: each waits for its own request.
        const ends: Array<{ readonly code: number | null; readonly output: string }> = []
        for (const noLane of ["0", "1"]) {
          const request = new Promise<void>((r) => arrived.push(r))
          const child = spawn(BIN, ["data", "show", "AAPL", "-t", "1h"], {
            env: baseEnv({ KTRDR_API_URL: url, KTRDR_NO_SHOW_LANE: noLane }),
            stdio: ["ignore", "pipe", "pipe"]
          })
          let output = ""
          child.stdout.on("data", (d: Buffer) => void (output += d.toString()))
          child.stderr.on("data", (d: Buffer) => void (output += d.toString()))
          await request
          child.kill(signal)
          const code = await new Promise<number | null>((r) => child.once("close", r))
          ends.push({ code, output })
        }
        expect(ends[0], signal).toEqual(ends[1])
        expect(ends[0]!.code).toBe(signal === "SIGINT" ? 130 : 143)
      }
    } finally {
      stub.closeAllConnections()
      stub.close()
    }
  }, 60_000)
})
