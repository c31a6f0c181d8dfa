/**
 * The gateway simulator as its own OS process (`src/sim/main.ts`), with its control API wrapped: what a
 * multi-process test asserts on (stats, the historical request log) and what it changes (config, faults).
 */
import type { ConfigPatch } from "../../src/sim/controlApi.ts"
import type { FaultsPatch } from "../../src/sim/faults.ts"
import type { FaultState } from "../../src/sim/faults.ts"
import type { SimulatorStats } from "../../src/sim/GatewaySimulator.ts"
import type { RequestLogSnapshot } from "../../src/sim/requestLog.ts"
import { spawnNode, type ExitInfo } from "./childProcess.ts"

export interface SpawnSimOptions {
  readonly label?: string
  readonly pacing?: "strict" | "all" | "off"
  readonly timeScale?: number
  readonly latencyMs?: number
  readonly perBarUs?: number
  readonly serverVersion?: number
  /** ISO instant the gateway's clock starts at. */
  readonly clock?: string
  readonly clockSpeed?: number
  /** 0 (default): any free port. A fixed port lets a test restart a "gateway" where clients expect it. */
  readonly port?: number
  readonly controlPort?: number
  readonly verbose?: boolean
  /** How long to wait for the banner (tsx start-up on a busy machine). Default 60 s. */
  readonly startTimeoutMs?: number
}

export interface SimProcess {
  readonly pid: number
  readonly label: string
  /** TWS API port on 127.0.0.1. */
  readonly port: number
  readonly controlPort: number
  readonly controlUrl: string
  readonly stats: () => Promise<SimulatorStats>
  readonly requests: () => Promise<RequestLogSnapshot>
  readonly configure: (patch: typeof ConfigPatch.Encoded) => Promise<void>
  readonly faults: (patch: typeof FaultsPatch.Encoded) => Promise<FaultState>
  /** Clears faults, pacing history, counters and the request log (sessions stay). */
  readonly reset: () => Promise<void>
  readonly kill: (signal?: NodeJS.Signals) => Promise<ExitInfo>
  readonly exited: Promise<number | null>
  readonly logs: () => string
}

let simCounter = 0

const control = async <A>(url: string, method: "GET" | "POST", body?: unknown): Promise<A> => {
  const r = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${text}`)
  return JSON.parse(text) as A
}

/** Starts `node --import tsx src/sim/main.ts` on free ports and waits for its banner. */
export const spawnSim = async (o: SpawnSimOptions = {}): Promise<SimProcess> => {
  const label = o.label ?? `sim${++simCounter}`
  const args = ["--port", String(o.port ?? 0), "--control-port", String(o.controlPort ?? 0)]
  if (o.pacing !== undefined) args.push("--pacing", o.pacing)
  if (o.timeScale !== undefined) args.push("--time-scale", String(o.timeScale))
  if (o.latencyMs !== undefined) args.push("--latency-ms", String(o.latencyMs))
  if (o.perBarUs !== undefined) args.push("--per-bar-us", String(o.perBarUs))
  if (o.serverVersion !== undefined) args.push("--server-version", String(o.serverVersion))
  if (o.clock !== undefined) args.push("--clock", o.clock)
  if (o.clockSpeed !== undefined) args.push("--clock-speed", String(o.clockSpeed))
  if (o.verbose) args.push("--verbose")
  const p = spawnNode(label, "src/sim/main.ts", args)
  // "ktrdr sim: TWS API v193 on 127.0.0.1:PORT, control API on http://127.0.0.1:CPORT (…"
  const m = await p.waitForLine(
    / on 127\.0\.0\.1:(\d+), control API on http:\/\/127\.0\.0\.1:(\d+)/,
    o.startTimeoutMs ?? 60_000
  ).catch(async (e: unknown) => {
    await p.kill("SIGKILL")
    throw e
  })
  const port = Number(m[1])
  const controlPort = Number(m[2])
  const controlUrl = `http://127.0.0.1:${controlPort}`
  return {
    pid: p.pid,
    label,
    port,
    controlPort,
    controlUrl,
    stats: () => control<SimulatorStats>(`${controlUrl}/stats`, "GET"),
    requests: () => control<RequestLogSnapshot>(`${controlUrl}/requests`, "GET"),
    configure: (patch) => control<unknown>(`${controlUrl}/config`, "POST", patch).then(() => undefined),
    faults: (patch) => control<FaultState>(`${controlUrl}/faults`, "POST", patch),
    reset: () => control<unknown>(`${controlUrl}/reset`, "POST").then(() => undefined),
    kill: p.kill,
    exited: p.exited,
    logs: p.logs
  }
}
