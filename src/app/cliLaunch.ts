/**
 * What the `ktrdr` launchers do (cliLauncherCjs.ts, the package's bin dist/ktrdr.cjs; cliLauncher.ts, the
 * same as an ES module, dist/ktrdr.mjs), built to start like a shell tool. Node 20 has no compile cache
 * for ES modules, and compiling the CLI's ~1 MB of Effect code cost ~100 ms of every start, so:
 * - `ktrdr --version` answers before loading anything;
 * - `serve`, `sim`, `--embedded` and `data export|import` (long-running, or building the core's layers) import the
 *   ES-module bundle (cliMain.ts, split into lazily loaded chunks), as before;
 * - `data show` first tries its lane (cliShow.ts: no Effect at all), which answers the plain cases and declines
 *   the rest (KTRDR_NO_SHOW_LANE=1 skips it);
 * - every other command (and a declined `data show`) runs cliFast.ts. Both are CommonJS scripts compiled
 *   through `vm.Script` with the V8 code cache that the build produced by running each once
 *   (scripts/build-cli.ts). V8 checks a cache against its own version, flags and the source, and rejects a
 *   stale or foreign one; the script is then compiled from source — slower, never wrong. The file names
 *   carry the scripts' content hashes, so a cache always belongs to its script.
 */
import { readFileSync, writeFileSync, writeSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { Script } from "node:vm"

/** dist/chunks/cli-fast-<hash>.cjs, relative to the launcher; set by the build. */
declare const KTRDR_FAST_SCRIPT: string
/** dist/chunks/cli-show-<hash>.cjs, the `data show` lane (cliShow.ts), relative to the launcher; set by the build. */
declare const KTRDR_SHOW_SCRIPT: string
/**
 * package.json's version, set by the build: importing package.json put it in a chunk of its own that every
 * start loaded as a second module.
 */
declare const KTRDR_VERSION: string

const fullBundle = (a: string) => a === "serve" || a === "sim" || a === "--embedded" || a.startsWith("--embedded=")

/**
 * Compiles and runs one of the build's CommonJS scripts with its code cache; its exports, or undefined when it is
 * not there (a partial dist/), so the caller can fall back. `label` names it in the KTRDR_TIMING note.
 */
const runScript = (dir: string, name: string, label: string): Record<string, unknown> | undefined => {
  const file = join(dir, name)
  let source: string
  try {
    source = readFileSync(file, "utf8")
  } catch {
    return undefined
  }
  let cachedData: Buffer | undefined
  try {
    // KTRDR_NO_CODE_CACHE=1 compiles from source, to measure what the cache saves.
    cachedData = process.env["KTRDR_NO_CODE_CACHE"] === "1" ? undefined : readFileSync(`${file}.cache`)
  } catch {
    cachedData = undefined
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData ? { cachedData } : {})
  })
  // The build's runs: each writes the cache of everything its run compiled (scripts/build-cli.ts).
  if (process.env["KTRDR_WRITE_CODE_CACHE"] === `${file}.cache`) {
    process.once("exit", () => writeFileSync(`${file}.cache`, script.createCachedData()))
  }
  if (process.env["KTRDR_TIMING"] === "1" && cachedData) {
    // Not through process.stderr: making that stream (~2 ms) would be part of what KTRDR_TIMING measures.
    writeSync(2, `KTRDR_CODE_CACHE ${script.cachedDataRejected === true ? "rejected" : "accepted"} (${label})\n`)
  }
  const module = { exports: {} as Record<string, unknown> }
  const run = script.runInThisContext() as (...a: ReadonlyArray<unknown>) => void
  run(module.exports, createRequire(file), module, file, dirname(file))
  return module.exports
}

type Show = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => Promise<boolean>

/**
 * Runs this process's command line. `dir` is the launcher's directory (dist/, symlinks resolved, as Node
 * resolves a main module's); `esBundle` imports the ES-module bundle's entry, which runs the program.
 */
export const launch = (dir: string, esBundle: () => Promise<unknown>): Promise<unknown> => {
  const args = process.argv.slice(2)
  /** `data export` / `data import` run the store layers in this process. */
  const transfer = args[0] === "data" && (args[1] === "export" || args[1] === "import")
  if (args.length === 1 && args[0] === "--version") {
    // What @effect/cli prints for it (the version as a paragraph, then a newline).
    process.stdout.write(`${KTRDR_VERSION}\n\n`)
    return Promise.resolve()
  }
  if (args.some(fullBundle) || transfer) return esBundle()
  const full = () => (runScript(dir, KTRDR_FAST_SCRIPT, "fast") === undefined ? esBundle() : Promise.resolve())
  // KTRDR_NO_SHOW_LANE=1 skips the lane: what the tests compare it with.
  if (args[0] === "data" && args[1] === "show" && process.env["KTRDR_NO_SHOW_LANE"] !== "1") {
    const show = runScript(dir, KTRDR_SHOW_SCRIPT, "show")?.["show"] as Show | undefined
    // A lane that declines (or fails) has printed nothing: the full program answers.
    if (show) return show(args.slice(2), process.env).then((answered) => (answered ? undefined : full()), full)
  }
  return full()
}
