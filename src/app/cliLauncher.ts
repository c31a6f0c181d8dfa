/**
 * The `ktrdr` bin (dist/ktrdr.mjs), built to start like a shell tool. Node 20 has no compile cache
 * for ES modules, and compiling the CLI's ~1 MB of Effect code cost ~100 ms of every start, so:
 * - `ktrdr --version` answers before loading anything;
 * - `serve`, `sim`, `--embedded` and `data export|import` (long-running, or building the core's layers) import the
 *   ES-module bundle (cliMain.ts, split into lazily loaded chunks), as before;
 * - every other command runs cliFast.ts, one CommonJS script compiled through `vm.Script` with the V8
 *   code cache that the build produced by running it once (scripts/build-cli.ts). V8 checks the cache
 *   against its own version, flags and the source, and rejects a stale or foreign one; the script is
 *   then compiled from source — slower, never wrong. The file names carry the script's content hash,
 *   so a cache always belongs to its script.
 * This file is resolved through symlinks like any ES module, so the bin works from any directory.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"
import pkg from "../../package.json" with { type: "json" }

/** dist/chunks/cli-fast-<hash>.cjs, relative to this file; set by the build. */
declare const KTRDR_FAST_SCRIPT: string

const args = process.argv.slice(2)
const fullBundle = (a: string) => a === "serve" || a === "sim" || a === "--embedded" || a.startsWith("--embedded=")
/** `data export` / `data import` run the store layers in this process. */
const transfer = args[0] === "data" && (args[1] === "export" || args[1] === "import")

/** Runs the fast script; false when it is not there (a partial dist/), so the caller can fall back. */
const runFast = (): boolean => {
  const dir = dirname(fileURLToPath(import.meta.url))
  const file = join(dir, KTRDR_FAST_SCRIPT)
  let source: string
  try {
    source = readFileSync(file, "utf8")
  } catch {
    return false
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
  // The build's one run: writes the cache of everything that run compiled (scripts/build-cli.ts).
  const out = process.env["KTRDR_WRITE_CODE_CACHE"]
  if (out) process.once("exit", () => writeFileSync(out, script.createCachedData()))
  if (process.env["KTRDR_TIMING"] === "1" && cachedData) {
    process.stderr.write(`KTRDR_CODE_CACHE ${script.cachedDataRejected === true ? "rejected" : "accepted"}\n`)
  }
  const module = { exports: {} }
  const run = script.runInThisContext() as (...a: ReadonlyArray<unknown>) => void
  run(module.exports, createRequire(file), module, file, dirname(file))
  return true
}

if (args.length === 1 && args[0] === "--version") {
  // What @effect/cli prints for it (the version as a paragraph, then a newline).
  process.stdout.write(`${pkg.version}\n\n`)
} else if (args.some(fullBundle) || transfer || !runFast()) {
  await import("./cliMain.ts")
}
