/**
 * `ktrdr serve` as its own OS process: `node --import tsx src/app/cliMain.ts serve` — the bin's own entry
 * (dist/ktrdr.mjs is its bundle), so signals reach the server itself — on a free API port, with a temp data
 * directory unless the caller gives one (removed by `killAll`), ready once `GET /api/v1/health` answers 200.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterKillAll, spawnNode, type ExitInfo } from "./childProcess.ts"
import { freePort } from "./freePort.ts"

export interface SpawnServerOptions {
  /**
   * Extra environment: KTRDR_IB_HOST/PORT/CLIENT_ID, KTRDR_DATABASE_URL, cluster settings, … KTRDR_API_PORT is
   * picked free and KTRDR_DATA_DIR is a fresh temp directory unless given here.
   */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly label?: string
  /** Default 90 s: several servers starting at once on two shared cores. */
  readonly startTimeoutMs?: number
  /** Extra `serve` arguments (e.g. ["--sim"]). */
  readonly args?: ReadonlyArray<string>
}

export interface ServerProcess {
  readonly pid: number
  readonly label: string
  readonly apiPort: number
  /** `http://127.0.0.1:<apiPort>` */
  readonly baseUrl: string
  readonly dataDir: string
  readonly kill: (signal?: NodeJS.Signals) => Promise<ExitInfo>
  readonly exited: Promise<number | null>
  readonly exit: Promise<ExitInfo>
  readonly alive: () => boolean
  readonly logs: () => string
}

let serverCounter = 0

/**
 * The single-gateway settings for a server talking to `sim` as `clientId`. `attempts` 1 keeps a refused id refused
 * (the server's default moves on to the next id after 326); `timeScale` must match a time-scaled simulator's.
 */
export const gatewayEnv = (
  sim: { readonly port: number },
  o: { readonly clientId?: number; readonly attempts?: number; readonly timeScale?: number } = {}
): Record<string, string> => ({
  KTRDR_IB_HOST: "127.0.0.1",
  KTRDR_IB_PORT: String(sim.port),
  KTRDR_IB_CLIENT_ID: String(o.clientId ?? 1),
  ...(o.attempts === undefined ? {} : { KTRDR_IB_CLIENT_ID_ATTEMPTS: String(o.attempts) }),
  ...(o.timeScale === undefined ? {} : { KTRDR_IB_PACING_TIME_SCALE: String(o.timeScale) })
})

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `GET <baseUrl>/api/v1/health` until it answers 200; fails early (with the logs) if the process exits. */
const waitForHealth = async (
  baseUrl: string,
  exit: Promise<ExitInfo>,
  logs: () => string,
  label: string,
  timeoutMs: number
): Promise<void> => {
  let exited: ExitInfo | undefined
  void exit.then((e) => (exited = e))
  const until = Date.now() + timeoutMs
  let last: string
  for (;;) {
    if (exited) {
      throw new Error(`${label} exited (code ${exited.code}, signal ${exited.signal}) before /health\n${logs()}`)
    }
    try {
      const r = await fetch(`${baseUrl}/api/v1/health`, { signal: AbortSignal.timeout(2_000) })
      last = `${r.status} ${await r.text()}`
      if (r.ok) return
    } catch (e) {
      last = e instanceof Error ? e.message : String(e)
    }
    if (Date.now() > until) throw new Error(`${label}: /health not ready after ${timeoutMs} ms (${last})\n${logs()}`)
    await sleep(100)
  }
}

/** Starts `ktrdr serve` in its own process and waits until its API answers. */
export const spawnServer = async (o: SpawnServerOptions = {}): Promise<ServerProcess> => {
  const label = o.label ?? `server${++serverCounter}`
  const env = o.env ?? {}
  const apiPort = env.KTRDR_API_PORT !== undefined ? Number(env.KTRDR_API_PORT) : await freePort()
  const ownDir = env.KTRDR_DATA_DIR === undefined
  const dataDir = env.KTRDR_DATA_DIR ?? await mkdtemp(join(tmpdir(), `ktrdr-${label}-`))
  const p = spawnNode(label, "src/app/cliMain.ts", ["serve", ...(o.args ?? [])], {
    KTRDR_API_HOST: "127.0.0.1",
    ...env,
    KTRDR_API_PORT: String(apiPort),
    KTRDR_DATA_DIR: dataDir
  })
  // Kept after the process exits (a restarted server may reuse it); removed by killAll.
  if (ownDir) afterKillAll(() => rm(dataDir, { recursive: true, force: true }))
  const baseUrl = `http://127.0.0.1:${apiPort}`
  await waitForHealth(baseUrl, p.exit, p.logs, label, o.startTimeoutMs ?? 90_000).catch(async (e: unknown) => {
    await p.kill("SIGKILL")
    throw e
  })
  return {
    pid: p.pid,
    label,
    apiPort,
    baseUrl,
    dataDir,
    kill: p.kill,
    exited: p.exited,
    exit: p.exit,
    alive: p.alive,
    logs: p.logs
  }
}
