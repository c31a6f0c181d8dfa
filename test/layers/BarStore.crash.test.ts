/**
 * Crash safety: a child process saves a 100k-bar series in a loop and is SIGKILLed at random moments. After every
 * kill the file must parse and equal, byte for byte, either the last version the child finished or the one it was
 * writing; stray temp files must never be listed as series, and a new store sweeps them.
 */
import { spawn } from "node:child_process"
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"
import { Effect, Either, Layer, Logger, LogLevel } from "effect"
import { parseBarCsv } from "../../src/domain/barCsv.ts"
import { formatBarCsv } from "../../src/domain/barCsvFormat.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { crashSeries } from "./fixtures/crashSeries.ts"
import { barsOf } from "../../src/domain/barSeries.ts"

const storeLayer = (dataDir: string) =>
  BarStore.layer.pipe(
    Layer.provide(DataConfig.make({ dataDir })),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

const ROOT = fileURLToPath(new URL("../../", import.meta.url))
const CHILD = fileURLToPath(new URL("./fixtures/saveLoop.ts", import.meta.url))
const TRIALS = 24
/** Kills that must land inside a save; on a loaded machine more trials are run until they have (at most MAX). */
const IN_SAVE = 10
const MAX_TRIALS = 80

interface Progress {
  started: number
  done: number
}

/** Runs the child from version `first`, kills it `delayMs` after its first `start` line, resolves when it is gone. */
const runAndKill = (dir: string, first: number, delayMs: number, progress: Progress) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(first)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = "", err = ""
    let timer: NodeJS.Timeout | undefined
    const watchdog = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const lines = out.split("\n")
      out = lines.pop()!
      for (const line of lines) {
        const [what, v] = line.split(" ")
        if (what === "start") progress.started = Number(v)
        if (what === "done") progress.done = Number(v)
        if (what === "start" && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), delayMs)
      }
    })
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    child.on("error", reject)
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog)
      if (timer) clearTimeout(timer)
      signal === "SIGKILL" ? resolve() : reject(new Error(`child exited ${code ?? signal}: ${err}`))
    })
  })

describe("BarStore crash safety", () => {
  it(`a writer SIGKILLed ${TRIALS} times always leaves a complete old-or-new file`, async () => {
    const root = await mkdtemp(join(tmpdir(), "ktrdr-crash-"))
    const dir = join(root, "data")
    const file = join(dir, "CRASH_1m.csv")
    const expected = new Map<number, string>()
    const expectedText = (v: number) => {
      if (!expected.has(v)) expected.set(v, formatBarCsv(crashSeries(v)))
      return expected.get(v)!
    }
    const progress: Progress = { started: -1, done: -1 }
    let killedInSave = 0
    try {
      const store = await Effect.runPromise(Effect.provide(BarStore, storeLayer(dir)))
      for (let trial = 0; trial < TRIALS || (killedInSave < IN_SAVE && trial < MAX_TRIALS); trial++) {
        await runAndKill(dir, progress.started + 1, Math.floor(Math.random() * 700), progress)
        const present = await stat(file).then(() => true, () => false)
        if (!present) {
          expect(progress.done).toBe(-1) // nothing was ever completed
          continue
        }
        const text = await readFile(file, "utf8")
        const parsed = parseBarCsv(text)
        expect(Either.isRight(parsed)).toBe(true)
        const version = barsOf(Either.getOrThrow(parsed))[0]!.volume ?? -1
        // not older than the last save the child confirmed, not newer than the last one it began
        expect(version).toBeGreaterThanOrEqual(progress.done)
        expect(version).toBeLessThanOrEqual(progress.started)
        expect(text === expectedText(version)).toBe(true)
        const names = await readdir(dir)
        if (progress.started > progress.done) killedInSave++ // a save had begun and was not confirmed
        const listed = await Effect.runPromise(store.list())
        expect(listed.map((s) => `${s.series}_${s.timeframe}`)).toEqual(["CRASH_1m"])
        expect(names.filter((n) => !n.endsWith(".tmp"))).toEqual(["CRASH_1m.csv"])
      }
      expect(progress.done).toBeGreaterThan(0)
      expect(killedInSave).toBeGreaterThanOrEqual(IN_SAVE) // the kills did land inside saves
      // a new store (e.g. after a restart) removes what the dead writers left behind
      await Effect.runPromise(Effect.provide(BarStore, storeLayer(dir)))
      expect(await readdir(dir)).toEqual(["CRASH_1m.csv"])
    } finally {
      await rm(root, { recursive: true, force: true })
    }
  }, 600_000)
})
