/** The standalone runner (`src/sim/main.ts`): starts, announces its ports on one line, serves, and stops on SIGTERM. */
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { codes, connectNext, freePort, Resources, waitFor, within } from "./support.ts"
import { TwsTestClient } from "./twsClient.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const res = new Resources()
let child: ChildProcess | undefined

const children: Array<ChildProcess> = []

afterAll(async () => {
  await res.closeAll()
  for (const c of [child, ...children]) {
    if (c && c.exitCode === null && c.signalCode === null) {
      c.kill("SIGKILL")
      await new Promise((r) => c.once("exit", r))
    }
  }
})

/** Starts `src/sim/main.ts` with `args` and resolves with its banner line and TWS port. */
const runSim = async (args: ReadonlyArray<string>) => {
  const proc = spawn(process.execPath, ["--import", "tsx", "src/sim/main.ts", "--port", "0", ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" }
  })
  children.push(proc)
  let stdout = ""
  proc.stdout!.on("data", (b: Buffer) => (stdout += b.toString("utf8")))
  const banner = await waitFor("the banner", () => stdout, (s) => s.includes("\n"), 30_000)
  const port = Number(/ on 127\.0\.0\.1:(\d+),/.exec(banner)?.[1])
  return { proc, banner: banner.trimEnd(), port }
}

describe("ktrdr sim runner", () => {
  it("prints its ports on one line, serves TWS and control clients, and exits 0 on SIGTERM", async () => {
    const controlPort = await freePort()
    const proc = spawn(process.execPath, [
      "--import",
      "tsx",
      "src/sim/main.ts",
      "--port",
      "0",
      "--control-port",
      String(controlPort),
      "--time-scale",
      "10"
    ], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "" }
    })
    child = proc
    let stdout = ""
    let stderr = ""
    proc.stdout!.on("data", (b: Buffer) => (stdout += b.toString("utf8")))
    proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString("utf8")))
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once("exit", (code, signal) => resolve({ code, signal }))
    )

    const banner = await waitFor(`the banner (stderr: ${stderr})`, () => stdout, (s) => s.includes("\n"), 30_000)
    const lines = banner.trimEnd().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("127.0.0.1:")
    const m = /TWS API v193 on 127\.0\.0\.1:(\d+), control API on http:\/\/127\.0\.0\.1:(\d+)/.exec(lines[0]!)
    expect(m).not.toBeNull()
    const port = Number(m![1])
    expect(port).toBeGreaterThan(0)
    expect(Number(m![2])).toBe(controlPort)

    // It is a working gateway and control API.
    const c = await connectNext(res, port, 3)
    const stats = (await (await fetch(`http://127.0.0.1:${controlPort}/stats`)).json()) as {
      openConnections: number
      clientIds: Array<number>
    }
    expect(stats.openConnections).toBe(1)
    expect(stats.clientIds).toEqual([3])
    expect(codes(c.errors)).not.toContain(505)
    c.close()

    proc.kill("SIGTERM")
    const { code, signal } = await within(exited, 10_000, "exit after SIGTERM")
    expect(signal).toBe(null)
    expect(code).toBe(0)
    expect(stdout.trimEnd().split("\n")).toHaveLength(1)
  })

  it("--server-version, --clock and --clock-speed: an older gateway on a simulated clock", async () => {
    const { banner, port, proc } = await runSim([
      "--control-port",
      String(await freePort()),
      "--server-version",
      "176",
      "--clock",
      "2024-03-05T15:30:00Z",
      "--clock-speed",
      "60"
    ])
    expect(banner).toContain("TWS API v176 on 127.0.0.1:")
    expect(banner).toContain("clock from 2024-03-05T15:30:00Z ×60")
    const c = await TwsTestClient.connect(port, { minVersion: 100, maxVersion: 193, clientId: 1 })
    res.add(() => c.close())
    expect(c.serverVersion).toBe(176)
    expect(c.serverTime).toMatch(/^20240305 10:(3\d|4\d):\d{2} EST$/) // New York, a minute or so later at ×60
    c.send([49, 1])
    await c.waitFor("current time", () => c.named("CURRENT_TIME").length === 1)
    const t = Number(c.named("CURRENT_TIME")[0]!.f["time"]) * 1000
    expect(t).toBeGreaterThanOrEqual(Date.UTC(2024, 2, 5, 15, 30))
    expect(t).toBeLessThan(Date.UTC(2024, 2, 5, 17, 0))
    proc.kill("SIGTERM")
  })

  it("refuses a server version outside 100..193 and a clock that is not a date", async () => {
    for (const args of [["--server-version", "194"], ["--clock", "yesterday"]]) {
      const proc = spawn(process.execPath, ["--import", "tsx", "src/sim/main.ts", "--port", "0", ...args], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NODE_OPTIONS: "" }
      })
      children.push(proc)
      // Effect's runMain reports the failure through its logger (stdout or stderr, by version): read both.
      let stderr = ""
      proc.stderr!.on("data", (b: Buffer) => (stderr += b.toString("utf8")))
      proc.stdout!.on("data", (b: Buffer) => (stderr += b.toString("utf8")))
      const code = await within(new Promise<number | null>((r) => proc.once("exit", r)), 30_000, `exit for ${args}`)
      expect(code, args.join(" ")).not.toBe(0)
      expect(stderr, args.join(" ")).toMatch(/--server-version must be 100–193|--clock must be an ISO date-time/)
    }
  })
})
