/** The bin itself: version, help on every level, completions, `ktrdr serve --sim`, `ktrdr sim`. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mkdtemp } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { readFileSync } from "node:fs"
import { baseEnv, ensureBuilt, ktrdr, removeDir, ROOT, spawnKtrdr } from "./support.ts"

const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "")

let dataDir: string | undefined

beforeAll(async () => {
  await ensureBuilt()
  dataDir = await mkdtemp(join(tmpdir(), "ktrdr-bin-"))
}, 180_000)

afterAll(() => removeDir(dataDir))

describe("ktrdr bin", () => {
  it("--version prints the package version", async () => {
    const r = await ktrdr(["--version"])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version)
  })

  it.each([
    [[]],
    [["--help"]],
    [["data", "--help"]],
    [["data", "load", "--help"]],
    [["operations", "cancel", "--help"]],
    [["ib", "--help"]],
    [["serve", "--help"]],
    [["sim", "--help"]]
  ])(
    "help for %j (exit 0)",
    async (args) => {
      const r = await ktrdr(args)
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/^Usage: ktrdr/)
    }
  )

  it("lists every command group and KTRDR's option names in help", async () => {
    const groups: Record<string, ReadonlyArray<string>> = {
      data: ["show", "load", "range", "gaps"],
      operations: ["list", "status", "cancel", "retry"],
      ib: ["status", "health", "symbol"]
    }
    const top = stripAnsi((await ktrdr(["--help"])).stdout)
    for (const c of [...Object.keys(groups), "serve", "sim"]) expect(top).toMatch(new RegExp(`^  ${c} +\\S`, "m"))
    for (const [group, commands] of Object.entries(groups)) {
      const help = (await ktrdr([group, "--help"])).stdout
      for (const c of commands) expect(help).toMatch(new RegExp(`^  ${c} +\\S`, "m"))
    }
    const load = stripAnsi((await ktrdr(["data", "load", "--help"])).stdout)
    for (
      const o of [
        "--timeframe",
        "--mode",
        "--start",
        "--end",
        "--no-progress",
        "--quiet",
        "--format",
        "--url",
        "--embedded"
      ]
    ) expect(load).toContain(o)
  })

  it("prints shell completions", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await ktrdr(["--completions", shell])
      expect(r.code).toBe(0)
      expect(r.stdout).toContain("ktrdr")
    }
  })

  it("an unknown command is a usage error (exit 2)", async () => {
    const r = await ktrdr(["frobnicate"])
    expect(r.code).toBe(2)
  })

  it("serve --sim: the API on the built-in simulator; Ctrl-C stops it cleanly (exit 0)", async () => {
    const p = spawnKtrdr(["serve", "--sim", "--port", "0"], baseEnv({ KTRDR_DATA_DIR: dataDir! }))
    try {
      const url = (await p.waitFor(/Listening on (http:\/\/[\d.:]+)/))[1]!
      await p.waitFor(/IB: ready/)
      const health = (await (await fetch(`${url}/api/v1/health`)).json()) as {
        status: string
        gateway: { ready: boolean; simulated: boolean }
      }
      expect(health).toMatchObject({ status: "ok", gateway: { ready: true, simulated: true } })
      const shown = await ktrdr(["data", "show", "AAPL", "--url", url])
      expect(shown.code).toBe(0)
      p.child.kill("SIGINT")
      const { code } = await p.exited
      expect(code).toBe(0)
    } finally {
      await p.stop()
    }
  })

  it("serve refuses a busy port with a clear error (exit 1)", async () => {
    const p = spawnKtrdr(["serve", "--sim", "--port", "0"], baseEnv({ KTRDR_DATA_DIR: dataDir! }))
    try {
      const port = new URL((await p.waitFor(/Listening on (http:\/\/[\d.:]+)/))[1]!).port
      const second = await ktrdr(["serve", "--sim", "--port", port], baseEnv({ KTRDR_DATA_DIR: dataDir! }))
      expect(second.code).toBe(1)
      expect(second.stderr).toMatch(/^Error: the server cannot listen: .*EADDRINUSE/m)
    } finally {
      await p.stop()
    }
  })

  it("sim: the simulator alone, announced on one line; SIGTERM stops it (exit 0)", async () => {
    const p = spawnKtrdr(["sim", "--port", "0", "--control-port", "0"])
    try {
      const m = await p.waitFor(/ktrdr sim: TWS API v193 on 127\.0\.0\.1:(\d+), control API on (http:\/\/[\d.:]+)/)
      const stats = (await (await fetch(`${m[2]}/stats`)).json()) as { openConnections: number }
      expect(stats.openConnections).toBe(0)
      p.child.kill("SIGTERM")
      expect((await p.exited).code).toBe(0)
    } finally {
      await p.stop()
    }
  })
})
