import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { readFile } from "node:fs/promises"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"
import { eventually, startSim } from "../layers/support.ts"
import { raw, tempDir } from "./support.ts"

const freePort = () =>
  Effect.promise(() =>
    new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port
        s.close(() => resolve(port))
      })
    })
  )

const script = fileURLToPath(new URL("./fixtures/serverProcess.ts", import.meta.url))

describe("server process lifecycle", () => {
  it.live(
    "SIGTERM during a load: exits within 2 s, checkpoint kept, gateway connection closed",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim({ pacing: "off", latencyMs: 150 })
        const dataDir = yield* tempDir()
        const port = yield* freePort()
        const child = spawn(process.execPath, ["--import", "tsx", script], {
          env: {
            ...process.env,
            KTRDR_API_PORT: String(port),
            KTRDR_IB_PORT: String(sim.port),
            KTRDR_DATA_DIR: dataDir,
            KTRDR_CHECKPOINT_SEGMENTS: "2"
          },
          stdio: ["ignore", "pipe", "pipe"]
        })
        let output = ""
        child.stdout.on("data", (d) => (output += d))
        child.stderr.on("data", (d) => (output += d))
        const exited = new Promise<{ code: number | null; signal: string | null; at: number }>((resolve) =>
          child.on("exit", (code, signal) => resolve({ code, signal, at: performance.now() }))
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
        const base = `http://127.0.0.1:${port}`
        yield* eventually("server listening", () => output, (o) => o.includes("Listening on"), 30_000)
        const start = yield* raw(base, "/api/v1/data/load?async_mode=true", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            symbol: "AAPL",
            timeframe: "1m",
            mode: "full",
            start_date: "2025-01-02",
            end_date: "2025-04-01"
          })
        })
        const id = start.json.data.operation_id
        // An SSE client stays connected: shutdown must not wait for it.
        const sse = fetch(`${base}/api/v1/operations/${id}/events`).then((r) => r.text()).catch(() => "")
        for (let i = 0; i < 300; i++) {
          const st = yield* raw(base, `/api/v1/operations/${id}`)
          if (st.json.data.progress.items_processed >= 4) break
          yield* Effect.sleep("50 millis")
        }
        expect(sim.stats().openConnections).toBe(1)
        const t0 = performance.now()
        child.kill("SIGTERM")
        const exit = yield* Effect.promise(() => exited)
        const ms = exit.at - t0
        expect(ms, output.slice(-2000)).toBeLessThan(2000)
        expect(exit.code === 0 || exit.signal === "SIGTERM" || exit.code === 130 || exit.code === 143).toBe(true)
        yield* Effect.promise(() => sse)
        yield* eventually("gateway connection closed", () => sim.stats().openConnections, (n) => n === 0, 2000)
        // The interrupted load checkpointed what it had fetched.
        const csv = yield* Effect.promise(() => readFile(`${dataDir}/AAPL_1m.csv`, "utf8"))
        expect(csv.trim().split("\n").length - 1).toBeGreaterThan(0)
      }).pipe(Effect.scoped),
    90_000
  )
})
