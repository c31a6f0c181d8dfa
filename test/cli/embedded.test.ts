/**
 * `--embedded`: the same commands on the core graph in the CLI's own process (own gateway session,
 * client id 11) print what remote mode prints, against the same store and simulator.
 */
import { createServer } from "node:net"
import { beforeAll, describe, expect, it } from "vitest"
import { embeddedEnv, ktrdr, remoteEnv, simStats, until, useStack } from "./support.ts"

const stack = useStack()

beforeAll(async () => {
  expect((await ktrdr(["data", "load", "AAPL", "-t", "1h", "-q"], remoteEnv(stack.server()))).code).toBe(0)
}, 180_000)

const both = async (args: ReadonlyArray<string>) => {
  const remote = await ktrdr(args, remoteEnv(stack.server()))
  const embedded = await ktrdr([...args, "--embedded"], embeddedEnv(stack.sim(), stack.server()))
  return { remote, embedded }
}

describe("--embedded gives the same output as remote", () => {
  it.each([
    [["data", "show", "AAPL", "-t", "1h", "-r", "20"]],
    [["data", "show", "AAPL", "-t", "1h", "-r", "20", "-f", "json"]],
    [["data", "show", "AAPL", "-t", "1h", "-r", "20", "-f", "csv"]],
    [["data", "show", "AAPL", "-t", "1h", "--start", "2001-01-01", "--end", "2001-01-31"]],
    [["data", "show", "QQQ", "-t", "1d"]],
    [["data", "range", "AAPL", "-t", "1h"]],
    [["data", "range", "AAPL", "-t", "1h", "-f", "json"]],
    [["data", "gaps", "AAPL", "-t", "1h", "--start", "2025-01-01", "--end", "2025-03-01", "--mode", "verbose"]],
    [["data", "show", "AAPL", "-t", "9h"]]
  ])("%j", async (args) => {
    const { remote, embedded } = await both(args)
    expect(embedded.code).toBe(remote.code)
    expect(embedded.stdout).toBe(remote.stdout)
    expect(embedded.stderr).toBe(remote.stderr)
  })

  it("errors keep the same message and IB code (request ids are per session)", async () => {
    const { remote, embedded } = await both(["ib", "symbol", "ZZZZQ"])
    expect(remote.code).toBe(1)
    expect(embedded.code).toBe(1)
    const firstLine = (s: string) => s.split("\n")[0]
    expect(firstLine(embedded.stderr)).toBe(firstLine(remote.stderr))
    expect(embedded.stderr).toMatch(/IB error 200, request \d+/)
  })

  it("opens its own gateway session (client id 11) and closes it when the command ends", async () => {
    const status = JSON.parse(
      (await ktrdr(["ib", "status", "-f", "json", "--embedded"], embeddedEnv(stack.sim(), stack.server()))).stdout
    )
    expect(status.connection).toMatchObject({ connected: true, client_id: 11 })
    await until(
      async () => (await simStats(stack.sim())).openConnections === 1,
      10_000,
      "only the server's session to remain"
    )
  })

  it("loads into the same store the server reads", async () => {
    const r = await ktrdr(
      ["data", "load", "IBM", "-t", "1d", "-f", "json", "--embedded"],
      embeddedEnv(stack.sim(), stack.server())
    )
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.stdout)
    expect(doc.success).toBe(true)
    const shown = JSON.parse(
      (await ktrdr(["data", "show", "IBM", "-t", "1d", "-f", "json"], remoteEnv(stack.server()))).stdout
    )
    expect(shown.total_rows).toBe(doc.details.total_bars)
  })

  it("a command that needs no gateway (data show) opens no session and logs nothing about one", async () => {
    const before = (await simStats(stack.sim())).totalConnections
    const r = await ktrdr(
      ["data", "show", "AAPL", "-t", "1h", "-r", "5", "--embedded"],
      embeddedEnv(stack.sim(), stack.server())
    )
    expect(r.code).toBe(0)
    expect((await simStats(stack.sim())).totalConnections).toBe(before)
    expect(r.stderr).not.toMatch(/IB:|gateway|ECONNREFUSED/i)
  })

  it("a load with the gateway down fails fast with where, what was tried and how to fix it", async () => {
    // A port nobody listens on: bound, then closed.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port
        srv.close(() => resolve(p))
      })
    })
    const t0 = Date.now()
    const r = await ktrdr(
      ["data", "load", "AAPL", "-t", "1d", "--embedded"],
      embeddedEnv(stack.sim(), stack.server(), { KTRDR_IB_PORT: String(port), KTRDR_IB_CONNECT_TIMEOUT: "3" })
    )
    const took = Date.now() - t0
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`IB gateway not reachable at 127.0.0.1:${port}`)
    expect(r.stderr).toContain("[IB-502]")
    expect(r.stderr).toContain("--wait-for-gateway")
    // The whole CLI process, start-up included: generous.
    expect(took).toBeLessThan(3000 + 2000 + 5000)
  })
})
