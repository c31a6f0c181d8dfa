/** Ctrl-C during `ktrdr data load`: the operation is cancelled on the server, what it fetched is kept, exit 130. */
import { describe, expect, it } from "vitest"
import { embeddedEnv, ktrdr, remoteEnv, simStats, spawnKtrdr, until, useStack } from "./support.ts"

// 30 ms per answer: years of 1-minute bars take minutes, so the SIGINT lands mid-load.
const stack = useStack(["--latency-ms", "30"])

const operation = async (id: string) =>
  ((await (await fetch(`${stack.server().url}/api/v1/operations/${id}`)).json()) as {
    data: { status: string; error_message: string | null; result_summary: Record<string, unknown> | null }
  }).data

describe("Ctrl-C during data load", () => {
  it("cancels the operation on the server, reports what was kept, exits 130", async () => {
    const p = spawnKtrdr(
      ["data", "load", "MSFT", "-t", "1m", "-m", "full", "--start", "2021-01-01"],
      remoteEnv(stack.server())
    )
    const id = (await p.waitFor(/Started operation: (op_\S+)/))[1]!
    await p.waitFor(/fetching_segments/)
    expect((await operation(id)).status).toBe("running")
    p.child.kill("SIGINT")
    const { code } = await p.exited
    expect(code).toBe(130)
    expect(p.err()).toContain(`🛑 Cancellation requested... stopping operation ${id}`)
    expect(p.err()).toContain("✅ Cancellation sent successfully")
    const kept = Number(p.err().match(/kept ([\d,]+) bars/)![1]!.replaceAll(",", ""))
    expect(kept).toBeGreaterThan(0)

    const info = await operation(id)
    expect(info.status).toBe("cancelled")
    expect(info.error_message).toBe("User requested cancellation via CLI")
    expect(info.result_summary?.["fetched_bars"]).toBe(kept)
    // What was fetched before the cancel is in the store.
    const range = JSON.parse(
      (await ktrdr(["data", "range", "MSFT", "-t", "1m", "-f", "json"], remoteEnv(stack.server()))).stdout
    )
    expect(range.range.point_count).toBeGreaterThan(0)
  })

  it("with -f json prints one JSON document describing the cancel", async () => {
    const p = spawnKtrdr(
      ["data", "load", "IBM", "-t", "1m", "-m", "full", "--start", "2021-01-01", "-f", "json"],
      remoteEnv(stack.server())
    )
    await until(
      async () => {
        const list = (await (await fetch(`${stack.server().url}/api/v1/operations?active_only=true`)).json()) as {
          data: ReadonlyArray<{ symbol: string; progress_percentage: number }>
        }
        return list.data.some((o) => o.symbol === "IBM" && o.progress_percentage > 10)
      },
      30_000,
      "the IBM load to be fetching"
    )
    p.child.kill("SIGINT")
    const { code } = await p.exited
    expect(code).toBe(130)
    const doc = JSON.parse(p.out())
    expect(doc).toMatchObject({ symbol: "IBM", success: false, status: "cancelled", cancelled: true })
    expect(doc.bars_kept).toBeGreaterThan(0)
  })

  it("embedded: the in-process load is cancelled the same way and the gateway session is closed", async () => {
    const p = spawnKtrdr(
      ["data", "load", "NVDA", "-t", "1m", "-m", "full", "--start", "2021-01-01", "--embedded"],
      embeddedEnv(stack.sim(), stack.server())
    )
    await p.waitFor(/fetching_segments/)
    expect((await simStats(stack.sim())).openConnections).toBe(2)
    p.child.kill("SIGINT")
    const { code } = await p.exited
    expect(code).toBe(130)
    expect(p.err()).toMatch(/kept [\d,]+ bars/)
    await until(
      async () => (await simStats(stack.sim())).openConnections === 1,
      10_000,
      "the embedded session to close"
    )
  })
})
