/** `ktrdr ib status|health|symbol`: the server's real gateway state (KTRDR printed placeholders). */
import { describe, expect, it } from "vitest"
import { ktrdr, simFaults, until, useStack } from "./support.ts"

const stack = useStack()
const env = () => stack.env()

describe("ib", () => {
  it("status: the session the server holds, as a table and as JSON", async () => {
    const r = await ktrdr(["ib", "status"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("🔌 IB Gateway: Ready")
    expect(r.stdout).toMatch(new RegExp(`│ Gateway +│ 127\\.0\\.0\\.1:${stack.sim().port} +│`))
    expect(r.stdout).toMatch(/│ Client ID +│ 1 +│/)
    expect(r.stdout).toContain("📈 Metrics")
    const json = JSON.parse((await ktrdr(["ib", "status", "-f", "json"], env())).stdout)
    expect(json).toMatchObject({
      state: "Ready",
      mode: "direct",
      connection: { connected: true, port: stack.sim().port, client_id: 1 }
    })
  })

  it("symbol: a known symbol's contract; an unknown one fails with its IB code and request id", async () => {
    const r = await ktrdr(["ib", "symbol", "AAPL"], env())
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/🔎 AAPL: /)
    expect(r.stdout).toMatch(/│ Type +│ stock +│/)
    expect(r.stdout).toMatch(/│ Contract id +│ \d+ +│/)
    const json = JSON.parse((await ktrdr(["ib", "symbol", "EUR.USD", "-f", "json"], env())).stdout)
    expect(json.symbol_info).toMatchObject({ instrument_type: "forex", series_key: "EURUSD" })

    const bad = await ktrdr(["ib", "symbol", "ZZZZQ"], env())
    expect(bad.code).toBe(1)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toMatch(/^Error: .*ZZZZQ.* \[IB-200\]$/m)
    expect(bad.stderr).toMatch(/^ {2}IB error 200, request \d+/m)
  })

  it("health: exit 0 while healthy, exit 1 with the reason while the data farm is down", async () => {
    const ok = await ktrdr(["ib", "health"], env())
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain("✅ IB gateway healthy (Ready, direct)")

    await simFaults(stack.sim(), { hmdsBroken: { restoreAfterMs: 6000 } })
    let sick = ok
    await until(
      async () => {
        sick = await ktrdr(["ib", "health", "-f", "json"], env())
        return sick.code === 1
      },
      10_000,
      "health to report the broken farm"
    )
    expect(JSON.parse(sick.stdout)).toMatchObject({ healthy: false, code: expect.stringMatching(/^IB-/) })
    await until(async () => (await ktrdr(["ib", "health"], env())).code === 0, 20_000, "health to recover")
  })
})
