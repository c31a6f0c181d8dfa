/**
 * `npm run build:cli [-- --analyze]`: bundles the `ktrdr` bin into dist/ktrdr.cjs (the package's `bin`; the same
 * launcher as an ES module is dist/ktrdr.mjs)
 * and the programmatic entry (src/index.ts) into dist/index.mjs (the package's `import` export), sharing
 * chunks, so plain Node code can use the runtime without a TypeScript loader.
 *
 * Why a bundle: resolving and evaluating Effect from node_modules module by module costs ~0.5–2 s per
 * start (tsx: 2.3 s); one ESM file costs a fraction of that. Code splitting keeps what only some
 * commands need out of the start-up path: the embedded core graph and the server (Swagger UI, HTTP
 * server, IB client, simulator) are chunks under dist/chunks/, loaded by dynamic import when a command
 * needs them.
 *
 * The bin itself is a small launcher (src/app/cliLauncher.ts). Every command that talks to a server runs
 * from dist/chunks/cli-fast-<hash>.cjs, one CommonJS script built here, with the V8 code cache this build
 * produces by running it once against a stub server (`ktrdr data show`): compiling the script's Effect
 * code was most of a command's start, and Node 20 caches no compiled code for ES modules.
 */
import { build, type Metafile, type Plugin } from "esbuild"
import { spawn } from "node:child_process"
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { basename, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import pkg from "../package.json" with { type: "json" }
import { FailureEnvelope } from "../src/contract/envelopeShape.ts"
import { jsonShapeOf } from "../src/contract/jsonShapeOf.ts"
import { BarsAnswer } from "../src/contract/ohlcvAnswer.ts"
import { deepImports } from "./deepImports.ts"
import { lazyBuiltins } from "./lazyBuiltins.ts"
import { lazyFormData } from "./lazyFormData.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const version = pkg.version
const out = join(root, "dist")

// CJS dependencies (undici, ws, cli-table3, @stoqey/ib) call require() and read __dirname; an ESM
// bundle has neither without this (@stoqey/ib's config loader throws on a missing __dirname).
const banner = [
  "#!/usr/bin/env node",
  "import { createRequire as __ktrdrCreateRequire } from \"node:module\";",
  "import { fileURLToPath as __ktrdrFileURLToPath } from \"node:url\";",
  "import { dirname as __ktrdrDirname } from \"node:path\";",
  "const require = __ktrdrCreateRequire(import.meta.url);",
  "const __filename = __ktrdrFileURLToPath(import.meta.url);",
  "const __dirname = __ktrdrDirname(__filename);"
].join("\n")

// Native add-ons cannot be bundled (and are optional for the packages that mention them).
const external = ["@parcel/watcher", "msgpackr-extract", "bufferutil", "utf-8-validate"]

/**
 * The fast script leaves out what the launcher sends to the ES-module bundle (`serve`, `sim`,
 * `--embedded`): the server, the simulator and the core graph. Their dynamic imports resolve to a
 * module that throws, so a routing mistake fails loudly instead of loading a second copy of Effect.
 */
const FULL_BUNDLE_ONLY = /^\.\.?\/(?:.*\/)?(serve|runSim|ApiConfig|embeddedClient|dataTransferLive)\.ts$/
const fullBundleOnly: Plugin = {
  name: "full-bundle-only",
  setup(b) {
    b.onResolve(
      { filter: FULL_BUNDLE_ONLY },
      (a) => a.kind === "dynamic-import" ? { path: a.path, namespace: "full-bundle-only" } : undefined
    )
    b.onLoad({ filter: /.*/, namespace: "full-bundle-only" }, (a) => ({
      contents: `throw new Error(${JSON.stringify(`ktrdr: ${a.path} runs from the ES-module bundle (routing bug)`)})`,
      loader: "js"
    }))
  }
}

/** Built-ins the fast script requires on first use (see lazyBuiltins.ts). */
const LAZY_BUILTINS = [
  "crypto",
  "readline",
  "https",
  "tls",
  "os",
  "perf_hooks",
  "child_process",
  "worker_threads",
  "zlib"
]

/** What the fast script and the bin launcher are: minified CommonJS for Node 20, with source maps. */
const minifiedCjs = {
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "none"
} as const

/** One CommonJS script (a code cache belongs to one script), named by its content hash: chunks/<name>-<hash>.cjs. */
const buildScript = async (
  stage: string,
  name: string,
  entry: string,
  plugins: ReadonlyArray<Plugin>,
  define: Record<string, string> = {}
): Promise<{ readonly file: string; readonly metafile: Metafile }> => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { [name]: entry },
    outdir: stage,
    entryNames: "chunks/[name]-[hash]",
    outExtension: { ".js": ".cjs" },
    ...minifiedCjs,
    external,
    plugins: [...plugins],
    define,
    metafile: true,
    logLevel: "warning"
  })
  const file = Object.keys(result.metafile.outputs).find((f) => f.endsWith(".cjs"))!
  return { file: join(root, file), metafile: result.metafile }
}

/** The fast script: the whole program for every command that talks to a server. */
const buildFast = (stage: string) =>
  buildScript(stage, "cli-fast", "src/app/cliFast.ts", [
    fullBundleOnly,
    lazyBuiltins(LAZY_BUILTINS),
    deepImports(root),
    lazyFormData
  ])

/**
 * The `data show` lane (src/app/cliShow.ts): no Effect at all. It checks answers with the shapes of the contract's
 * schemas, derived here. node:http is required on first use, so a line the lane declines before any request does
 * not pay for it.
 */
const buildShow = (stage: string) =>
  buildScript(stage, "cli-show", "src/app/cliShow.ts", [lazyBuiltins(["http", ...LAZY_BUILTINS]), deepImports(root)], {
    KTRDR_SHOW_SHAPES: JSON.stringify({ bars: jsonShapeOf(BarsAnswer.ast), failure: jsonShapeOf(FailureEnvelope.ast) })
  })

/**
 * The package's bin, dist/ktrdr.cjs: the launcher as a CommonJS script (an ES-module entry starts Node's
 * ES-module loader, ~5 ms of every command), importing the ES-module bundle's entry chunk by its name in
 * this build. Returns its path in the stage.
 */
const buildBin = async (stage: string, fastFile: string, showFile: string, esm: Metafile): Promise<string> => {
  const entry = Object.entries(esm.outputs).find(([, o]) => o.entryPoint === "src/app/cliMain.ts")?.[0]
  if (entry === undefined) throw new Error("build-cli: no chunk for src/app/cliMain.ts in the ES-module build")
  const file = join(stage, "ktrdr.cjs")
  await build({
    absWorkingDir: root,
    entryPoints: ["src/app/cliLauncherCjs.ts"],
    outfile: file,
    ...minifiedCjs,
    banner: { js: "#!/usr/bin/env node" },
    define: {
      KTRDR_FAST_SCRIPT: JSON.stringify(`chunks/${basename(fastFile)}`),
      KTRDR_SHOW_SCRIPT: JSON.stringify(`chunks/${basename(showFile)}`),
      KTRDR_VERSION: JSON.stringify(version),
      KTRDR_ES_ENTRY: JSON.stringify(`chunks/${basename(entry)}`)
    },
    logLevel: "warning"
  })
  await chmod(file, 0o755)
  return file
}

/** A canned `GET /data/AAPL/1h` answer in the contract's shape, so the cache-producing run decodes and renders. */
const cannedBars = () => {
  const dates = Array.from({ length: 10 }, (_, i) => `2024-01-02T${String(14 + i).padStart(2, "0")}:30:00`)
  const ohlcv = dates.map((_, i) => [100 + i, 101 + i, 99 + i, 100.5 + i, 1000 * (i + 1)])
  return {
    success: true,
    data: {
      dates,
      ohlcv,
      points: null,
      metadata: {
        symbol: "AAPL",
        timeframe: "1h",
        start_date: "2024-01-02T14:30:00+00:00",
        end_date: "2024-01-02T23:30:00+00:00",
        point_count: 10,
        start: dates[0],
        end: dates[9],
        points: 10,
        total_count: 10,
        range_start_date: "2024-01-02T14:30:00Z",
        trading_hours_only: false,
        include_extended: false,
        filter_calendar: null,
        incomplete_bars: 0
      }
    },
    error: null
  }
}

/**
 * Runs `ktrdr data show AAPL -t 1h` once, through the staged launcher, against a stub server; the
 * launcher writes the V8 code cache of everything the run compiled. A run that fails (the canned answer
 * no longer matching the contract) still leaves a cache, only a smaller one: the build warns.
 */
const produceCodeCache = async (launcher: string, script: string, extraEnv: Record<string, string>) => {
  const body = JSON.stringify(cannedBars())
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r))
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const env: NodeJS.ProcessEnv = {}
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KTRDR_") && k !== "NODE_OPTIONS") env[k] = v
    const child = spawn(process.execPath, [launcher, "data", "show", "AAPL", "-t", "1h", "--url", url], {
      env: { ...env, ...extraEnv, KTRDR_WRITE_CODE_CACHE: `${script}.cache` },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let err = ""
    child.stdout.resume()
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()))
    const code = await new Promise<number | null>((r) => child.once("exit", r))
    if (code !== 0) process.stderr.write(`build-cli: the code-cache run of ${script} exited ${code}: ${err}\n`)
  } finally {
    server.close()
  }
}

/**
 * Built in a staging directory and moved into place by rename, so a `ktrdr` process that is running
 * (a test, a server) never reads a half-written file: chunk names carry content hashes and are never
 * rewritten with other content, and the entry is swapped atomically. Chunks of earlier builds are
 * removed once they are an hour old.
 */
export const buildCli = async (options: { readonly analyze?: boolean } = {}): Promise<Metafile> => {
  const stage = join(out, `.stage-${process.pid}-${Date.now()}`)
  await mkdir(join(out, "chunks"), { recursive: true })
  try {
    const fast = await buildFast(stage)
    const show = await buildShow(stage)
    const result = await build({
      absWorkingDir: root,
      entryPoints: { ktrdr: "src/app/cliLauncher.ts", index: "src/index.ts" },
      outdir: stage,
      entryNames: "[name]",
      chunkNames: "chunks/[name]-[hash]",
      outExtension: { ".js": ".mjs" },
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      // Smaller files parse faster (V8 parses every byte of a module before running it; Node 20 has no
      // compile cache for ESM). Stack traces map back through the linked source maps.
      minify: true,
      sourcemap: "linked",
      legalComments: "none",
      banner: { js: banner },
      define: {
        KTRDR_FAST_SCRIPT: JSON.stringify(`chunks/${basename(fast.file)}`),
        KTRDR_SHOW_SCRIPT: JSON.stringify(`chunks/${basename(show.file)}`),
        KTRDR_VERSION: JSON.stringify(version)
      },
      external,
      plugins: [deepImports(root), lazyFormData],
      metafile: true,
      logLevel: "warning"
    })
    await chmod(join(stage, "ktrdr.mjs"), 0o755)
    const bin = await buildBin(stage, fast.file, show.file, result.metafile)
    // The full program's cache from a run that skips the lane; the lane's from a run it answers.
    await produceCodeCache(bin, fast.file, { KTRDR_NO_SHOW_LANE: "1" })
    await produceCodeCache(bin, show.file, {})
    const fresh = new Set(await readdir(join(stage, "chunks")))
    for (const f of fresh) await rename(join(stage, "chunks", f), join(out, "chunks", f))
    for (const entry of ["index.mjs", "ktrdr.mjs", "ktrdr.cjs"]) {
      await rename(join(stage, `${entry}.map`), join(out, `${entry}.map`))
      await rename(join(stage, entry), join(out, entry))
    }
    const hourAgo = Date.now() - 3_600_000
    for (const f of await readdir(join(out, "chunks"))) {
      const p = join(out, "chunks", f)
      if (!fresh.has(f) && (await stat(p)).mtimeMs < hourAgo) await rm(p, { force: true })
    }
    const outputs = { ...result.metafile.outputs, ...fast.metafile.outputs, ...show.metafile.outputs }
    if (options.analyze) {
      for (const [file, o] of Object.entries(outputs)) {
        if (file.endsWith(".map")) continue
        process.stdout.write(
          `${file.replace(`${stage.slice(root.length + 1)}/`, "dist/")}  ${(o.bytes / 1024).toFixed(0)} KiB\n`
        )
      }
      for (const script of [fast.file, show.file]) {
        const cache = script.replace(stage, out) + ".cache"
        process.stdout.write(`${cache.slice(root.length + 1)}  ${((await stat(cache)).size / 1024).toFixed(0)} KiB\n`)
      }
    }
    return { inputs: { ...result.metafile.inputs, ...fast.metafile.inputs, ...show.metafile.inputs }, outputs }
  } finally {
    await rm(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now()
  await buildCli({ analyze: process.argv.includes("--analyze") })
  process.stdout.write(
    `built dist/ktrdr.cjs, dist/ktrdr.mjs and dist/index.mjs in ${(performance.now() - t0).toFixed(0)} ms\n`
  )
}
