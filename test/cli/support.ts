/**
 * The CLI as a user runs it: the built bundle (`node dist/ktrdr.mjs …`) as a child process, against a
 * `ktrdr sim` process and a `ktrdr serve` process on ephemeral ports. Every process started here is
 * stopped by its pid when its test file ends.
 */
import { afterAll, beforeAll } from "vitest"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..")
export const BIN = join(ROOT, "dist", "ktrdr.mjs")

const newestMtime = (dir: string): number => {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * `npm test` builds the bundle first; a direct `vitest run test/cli` rebuilds it here when it is missing
 * or older than the sources. A lock directory keeps parallel test files from building at once.
 */
export const ensureBuilt = async () => {
  const stale = () =>
    !existsSync(BIN) ||
    statSync(BIN).mtimeMs <
      Math.max(newestMtime(join(ROOT, "src")), statSync(join(ROOT, "scripts", "build-cli.ts")).mtimeMs)
  if (!stale()) return
  const lock = join(ROOT, "dist", ".build-lock")
  mkdirSync(join(ROOT, "dist"), { recursive: true })
  for (let i = 0;; i++) {
    try {
      mkdirSync(lock)
      break
    } catch {
      if (i > 600) rmSync(lock, { recursive: true, force: true })
      await sleep(100)
      if (!stale()) return
    }
  }
  try {
    const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-cli.ts"], { cwd: ROOT, encoding: "utf8" })
    if (r.status !== 0) throw new Error(`build-cli failed: ${r.stderr}`)
  } finally {
    rmSync(lock, { recursive: true, force: true })
  }
}

/** Environment for child processes: no inherited KTRDR_* settings, quiet unless a test asks. */
export const baseEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KTRDR_") && !k.startsWith("IB_")) env[k] = v
  return { ...env, NO_COLOR: "1", ...extra }
}

export interface Proc {
  readonly child: ChildProcess
  readonly out: () => string
  readonly err: () => string
  /** Resolves with the first match of `re` in stdout + stderr. */
  readonly waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** SIGTERM (then SIGKILL after 10 s), by pid. */
  readonly stop: () => Promise<void>
}

export const spawnKtrdr = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = baseEnv(), cwd = ROOT): Proc => {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] })
  let out = ""
  let err = ""
  const waiters = new Set<() => void>()
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString()
    for (const w of waiters) w()
  })
  child.stderr!.on("data", (d: Buffer) => {
    err += d.toString()
    for (const w of waiters) w()
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      for (const w of waiters) w()
      resolve({ code, signal })
    })
  )
  const waitFor = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = (out + err).match(re)
        if (m) {
          cleanup()
          resolve(m)
        } else if (child.exitCode !== null) {
          cleanup()
          reject(new Error(`exited (${child.exitCode}) before ${re}: ${out}${err}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timeout waiting for ${re}; output: ${out}${err}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill("SIGTERM")
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    await exited
    clearTimeout(killer)
  }
  return { child, out: () => out, err: () => err, waitFor, exited, stop }
}

export interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** An executable (a bin, run through its shebang) to completion, its output captured. */
export const runFile = (
  file: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  cwd?: string
): Promise<Result> =>
  new Promise<Result>((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"], ...(cwd === undefined ? {} : { cwd }) })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => void (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })

/** One command to completion. */
export const ktrdr = async (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = baseEnv(),
  timeoutMs = 60_000
): Promise<Result> => {
  const p = spawnKtrdr(args, env)
  const timer = setTimeout(() => p.child.kill("SIGKILL"), timeoutMs)
  const { code } = await p.exited
  clearTimeout(timer)
  return { code, stdout: p.out(), stderr: p.err() }
}

export interface SimProcess {
  readonly port: number
  readonly controlUrl: string
  readonly proc: Proc
}

/** `ktrdr sim` on free ports (pacing off: tests are about the CLI, not IB's rules). */
export const startSim = async (args: ReadonlyArray<string> = []): Promise<SimProcess> => {
  const proc = spawnKtrdr(["sim", "--port", "0", "--control-port", "0", "--pacing", "off", ...args])
  const m = await proc.waitFor(/TWS API v193 on 127\.0\.0\.1:(\d+), control API on (http:\/\/[\d.:]+)/)
  return { port: Number(m[1]), controlUrl: m[2]!, proc }
}

export interface ServerProcess {
  readonly url: string
  readonly port: number
  readonly dataDir: string
  readonly proc: Proc
}

/** `ktrdr serve` on a free port, its gateway the given simulator, its store a fresh temp dir. */
export const startServer = async (sim: SimProcess, extra: Record<string, string> = {}): Promise<ServerProcess> => {
  const dataDir = await mkdtemp(join(tmpdir(), "ktrdr-cli-"))
  const proc = spawnKtrdr(
    ["serve", "--port", "0"],
    baseEnv({ KTRDR_IB_PORT: String(sim.port), KTRDR_DATA_DIR: dataDir, KTRDR_LOG_LEVEL: "Info", ...extra })
  )
  const m = await proc.waitFor(/Listening on (http:\/\/[\d.:]+)/)
  await proc.waitFor(/IB: ready/)
  const url = m[1]!
  return { url, port: Number(new URL(url).port), dataDir, proc }
}

export const stopAll = async (...ps: ReadonlyArray<{ readonly proc: Proc } | undefined>) => {
  await Promise.all(ps.map((p) => (p ? p.proc.stop() : Promise.resolve())))
}

export const removeDir = (d: string | undefined) => (d ? rm(d, { recursive: true, force: true }) : Promise.resolve())

export const simStats = async (sim: SimProcess) =>
  (await (await fetch(`${sim.controlUrl}/stats`)).json()) as {
    openConnections: number
    totalConnections: number
    clientIds: ReadonlyArray<number>
  }

export const simFaults = async (sim: SimProcess, patch: Record<string, unknown>) => {
  const res = await fetch(`${sim.controlUrl}/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(patch)
  })
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`)
}

/**
 * Established TCP connections whose local port is `port`, from the kernel's tables (the server is
 * another process, so this is how to see its sockets). Linux only, like CI.
 */
export const establishedTo = (port: number): number => {
  const hex = port.toString(16).toUpperCase().padStart(4, "0")
  let n = 0
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(f)) continue
    for (const line of readFileSync(f, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/)
      // local_address is ip:PORT in hex; state 01 = ESTABLISHED.
      if (cols.length > 3 && cols[1]!.endsWith(`:${hex}`) && cols[3] === "01") n++
    }
  }
  return n
}

/** Env for a command against `server` (remote mode through KTRDR_API_URL, as a user would set it). */
export const remoteEnv = (server: ServerProcess, extra: Record<string, string> = {}) =>
  baseEnv({ KTRDR_API_URL: server.url, ...extra })

/** Env for `--embedded` against the same store and simulator as `server`. */
export const embeddedEnv = (sim: SimProcess, server: ServerProcess, extra: Record<string, string> = {}) =>
  baseEnv({ KTRDR_IB_PORT: String(sim.port), KTRDR_DATA_DIR: server.dataDir, ...extra })

export const until = async (check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = "condition") => {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out waiting for ${what}`)
}

/**
 * A simulator process and a server process over it for one test file: started before its tests (the
 * bundle built first), stopped and their data removed after. `simArgs` slow the simulator down for
 * tests that must catch a load mid-way.
 */
export const useStack = (simArgs: ReadonlyArray<string> = []) => {
  let sim: SimProcess | undefined
  let server: ServerProcess | undefined
  beforeAll(async () => {
    await ensureBuilt()
    sim = await startSim(simArgs)
    server = await startServer(sim)
  }, 180_000)
  afterAll(async () => {
    await stopAll(server, sim)
    await removeDir(server?.dataDir)
  })
  return {
    sim: () => sim!,
    server: () => server!,
    env: () => remoteEnv(server!)
  }
}
