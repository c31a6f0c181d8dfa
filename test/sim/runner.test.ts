/** The standalone runner (`src/sim/main.ts`): starts, announces its ports on one line, serves, and stops on SIGTERM. */
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { codes, connectNext, freePort, Resources, waitFor, within } from "./support.ts"

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const res = new Resources()
let child: ChildProcess | undefined

afterAll(async () => {
  await res.closeAll()
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL")
    await new Promise((r) => child!.once("exit", r))
  }
})

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
})
