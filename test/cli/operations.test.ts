/** `ktrdr operations list|status|cancel|retry` against a real server process and a slow simulator process. */
import { describe, expect, it } from "vitest"
import { ktrdr, until, useStack } from "./support.ts"

// 40 ms per answer: a multi-year 1-minute load runs long enough to be cancelled.
const stack = useStack(["--latency-ms", "40"])
const env = () => stack.env()

/** Starts a long load through the API itself (not the CLI): the operation the commands then act on. */
const startLongLoad = async () => {
  const res = await fetch(`${stack.server().url}/api/v1/data/load?async_mode=true`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ symbol: "MSFT", timeframe: "1m", mode: "full", start_date: "2022-01-01" })
  })
  const body = (await res.json()) as { data: { operation_id: string } }
  const id = body.data.operation_id
  await until(
    async () => {
      const info = (await (await fetch(`${stack.server().url}/api/v1/operations/${id}`)).json()) as {
        data: { progress: { items_processed: number } }
      }
      return info.data.progress.items_processed > 0
    },
    30_000,
    "the load to fetch a segment"
  )
  return id
}

describe("operations", () => {
  it("list: nothing yet, then the loads with a summary; -f json parses", async () => {
    const empty = await ktrdr(["operations", "list"], env())
    expect(empty.code).toBe(0)
    expect(empty.stdout).toContain("ℹ️  No operations found")
    expect(JSON.parse((await ktrdr(["operations", "list", "-f", "json"], env())).stdout)).toEqual({
      operations: [],
      total_count: 0,
      active_count: 0
    })

    expect((await ktrdr(["data", "load", "AAPL", "-t", "1d", "-q"], env())).code).toBe(0)
    const r = await ktrdr(["operations", "list"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("📋 Operations Summary")
    expect(r.stdout).toContain("Total: 1 | Active: 0")
    expect(r.stdout).toMatch(/│ op_data_load_\S+ +│ data_load +│ COMPLETED +│ +100% │ AAPL/)
    expect((await ktrdr(["operations", "list", "--active"], env())).stdout).toContain("No active operations found")
  })

  it("status: the operation's table (Duration filled in) and JSON; an unknown id is exit 1", async () => {
    const [op] = JSON.parse((await ktrdr(["operations", "list", "-f", "json"], env())).stdout).operations
    const r = await ktrdr(["operations", "status", op.operation_id], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("COMPLETED")
    expect(r.stdout).toMatch(/│ Duration +│ [\d.]+s +│/)
    expect(r.stdout).toContain("📈 Progress Information")
    const json = JSON.parse((await ktrdr(["operations", "status", op.operation_id, "-f", "json"], env())).stdout)
    expect(json).toMatchObject({
      operation_id: op.operation_id,
      status: "completed",
      metadata: { symbol: "AAPL", timeframe: "1d" }
    })

    const missing = await ktrdr(["operations", "status", "op_nope"], env())
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("❌ Operation not found: op_nope")
  })

  it("cancel: stops a running load on the server with the reason; a second cancel is refused (exit 1)", async () => {
    const id = await startLongLoad()
    const r = await ktrdr(["operations", "cancel", id, "-r", "test says stop"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`✅ Successfully cancelled operation: ${id}`)
    expect(r.stdout).toContain("📝 Reason: test says stop")
    expect(r.stdout).toMatch(/📦 Kept: [\d,]+ bars fetched before the cancel/)
    const info = (await (await fetch(`${stack.server().url}/api/v1/operations/${id}`)).json()) as {
      data: { status: string; error_message: string }
    }
    expect(info.data).toMatchObject({ status: "cancelled", error_message: "test says stop" })

    const again = await ktrdr(["operations", "cancel", id], env())
    expect(again.code).toBe(1)
    expect(again.stderr).toContain("❌ Operation cannot be cancelled")
    expect(again.stderr).toContain("status: cancelled")
  })

  it("retry: a cancelled load runs again as a new operation; a completed one cannot be retried", async () => {
    const cancelled =
      JSON.parse((await ktrdr(["operations", "list", "-s", "cancelled", "-f", "json"], env())).stdout).operations[0]
    const r = await ktrdr(["operations", "retry", cancelled.operation_id], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("✅ Successfully created retry operation")
    const newId = r.stdout.match(/New: (op_retry_data_load_\S+)/)![1]!
    expect(r.stdout).toContain(`ktrdr operations status ${newId}`)
    // Clean up: the retry is a long load too.
    expect((await ktrdr(["operations", "cancel", newId, "-f", "json"], env())).code).toBe(0)

    const completed =
      JSON.parse((await ktrdr(["operations", "list", "-s", "completed", "-f", "json"], env())).stdout).operations[0]
    const refused = await ktrdr(["operations", "retry", completed.operation_id], env())
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain("❌ Operation cannot be retried")
  })

  it("usage errors are exit 2", async () => {
    expect((await ktrdr(["operations", "status"], env())).code).toBe(2)
    expect((await ktrdr(["operations", "list", "-s", "done"], env())).code).toBe(2)
  })
})
