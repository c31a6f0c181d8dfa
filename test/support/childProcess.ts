/**
 * OS processes for integration tests and benches: `node` spawned directly (never through npx, whose wrapper
 * swallows signals), stdout and stderr kept in a ring buffer for failure messages, and a registry that kills
 * every process still alive at `killAll()` and when the test process exits. Each child also watches its parent
 * (dieWithParent.ts), so even a SIGKILLed test process leaves nothing behind.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { fileURLToPath } from "node:url"

/** The repository root: children run from it, so `src/...` paths and tsx resolve as in `npm run`. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const DIE_WITH_PARENT = fileURLToPath(new URL("./dieWithParent.ts", import.meta.url))

export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface ManagedProcess {
  readonly pid: number
  readonly label: string
  readonly child: ChildProcess
  /** The exit code once it exited (null when a signal ended it). */
  readonly exited: Promise<number | null>
  /** Code and signal once it exited. */
  readonly exit: Promise<ExitInfo>
  /** True until the exit event. */
  readonly alive: () => boolean
  /** Sends `signal` (default SIGTERM) and resolves once the process exited. */
  readonly kill: (signal?: NodeJS.Signals) => Promise<ExitInfo>
  /** The last lines of stdout and stderr, each prefixed with the label and stream. */
  readonly logs: () => string
  /** Resolves with the first output line matching `re` (or rejects when the process exits or after `timeoutMs`). */
  readonly waitForLine: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
}

const LOG_LINES = 400
const LINE_CHARS = 2_000

const live = new Set<ManagedProcess>()
const everPids: Array<number> = []

let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Synchronous on purpose: at "exit" only synchronous work runs.
  process.once("exit", () => {
    for (const p of live) {
      try {
        process.kill(p.pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
  })
}

/** Spawns `node --import tsx <script> ...args` from the repository root and tracks it. */
export const spawnNode = (
  label: string,
  script: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>> = {}
): ManagedProcess => {
  installExitHook()
  const child = spawn(process.execPath, ["--import", "tsx", "--import", DIE_WITH_PARENT, script, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // NODE_OPTIONS from a test runner must not leak into the child (loaders, inspector flags).
    env: { ...process.env, NODE_OPTIONS: "", ...env }
  })
  if (child.pid === undefined) throw new Error(`${label}: spawn failed`)
  const pid = child.pid
  everPids.push(pid)
  const lines: Array<string> = []
  const watchers = new Set<(line: string) => void>()
  const keep = (stream: string) => {
    let partial = ""
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n")
      partial = parts.pop() ?? ""
      for (const raw of parts) {
        const line = raw.length > LINE_CHARS ? `${raw.slice(0, LINE_CHARS)}…` : raw
        lines.push(`[${label} ${stream}] ${line}`)
        if (lines.length > LOG_LINES) lines.shift()
        for (const w of watchers) w(raw)
      }
    }
  }
  child.stdout!.on("data", keep("out"))
  child.stderr!.on("data", keep("err"))
  let isAlive = true
  const exit = new Promise<ExitInfo>((resolve) =>
    child.once("exit", (code, signal) => {
      isAlive = false
      live.delete(proc)
      resolve({ code, signal })
    })
  )
  const logs = () => lines.join("\n")
  const proc: ManagedProcess = {
    pid,
    label,
    child,
    exit,
    exited: exit.then((e) => e.code),
    alive: () => isAlive,
    kill: (signal = "SIGTERM") => {
      if (isAlive) child.kill(signal)
      return exit
    },
    logs,
    waitForLine: (re, timeoutMs = 60_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer)
          watchers.delete(watch)
        }
        const watch = (line: string) => {
          const m = line.match(re)
          if (m) {
            done()
            resolve(m)
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`${label}: no line matching ${re} after ${timeoutMs} ms\n${logs()}`))
        }, timeoutMs)
        watchers.add(watch)
        void exit.then((e) => {
          if (!watchers.has(watch)) return
          done()
          reject(new Error(`${label} exited (code ${e.code}, signal ${e.signal}) before ${re}\n${logs()}`))
        })
      })
  }
  live.add(proc)
  return proc
}

const cleanups: Array<() => Promise<void>> = []

/** Work for `killAll` once every process is dead (temp directories the processes used). */
export const afterKillAll = (fn: () => Promise<void>): void => {
  cleanups.push(fn)
}

/**
 * SIGKILLs every tracked process still alive, waits until each exited, then runs the `afterKillAll` work.
 * Call it in afterEach/afterAll.
 */
export const killAll = async (): Promise<void> => {
  await Promise.all([...live].map((p) => p.kill("SIGKILL")))
  for (const fn of cleanups.splice(0)) await fn().catch(() => undefined)
}

/** Tracked processes that have not exited yet. */
export const liveProcesses = (): ReadonlyArray<ManagedProcess> => [...live]

/**
 * Pids of every process this module ever spawned that the OS still knows (signal 0 succeeds): after `killAll()`
 * this must be empty.
 */
export const survivingPids = (): ReadonlyArray<number> =>
  everPids.filter((pid) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  })
