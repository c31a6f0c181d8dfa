/**
 * `npm run build:cli [-- --analyze]`: bundles the `ktrdr` bin into dist/ktrdr.mjs (the package's `bin`)
 * and the programmatic entry (src/index.ts) into dist/index.mjs (the package's `import` export), sharing
 * chunks, so plain Node code can use the runtime without a TypeScript loader.
 *
 * Why a bundle: resolving and evaluating Effect from node_modules module by module costs ~0.5–2 s per
 * start (tsx: 2.3 s); one ESM file costs a fraction of that. Code splitting keeps what only some
 * commands need out of the start-up path: the remote client and the contract's schemas, the embedded
 * core graph, and the server (Swagger UI, HTTP server, IB client, simulator) are chunks under
 * dist/chunks/, loaded by dynamic import when a command needs them.
 */
import { build, type Metafile } from "esbuild"
import { chmod, mkdir, readdir, rename, rm, stat } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { deepImports } from "./deepImports.ts"
import { lazyFormData } from "./lazyFormData.ts"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
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
    const result = await build({
      absWorkingDir: root,
      entryPoints: { ktrdr: "src/app/cliMain.ts", index: "src/index.ts" },
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
      // Native add-ons cannot be bundled (and are optional for the packages that mention them).
      external: ["@parcel/watcher", "msgpackr-extract", "bufferutil", "utf-8-validate"],
      plugins: [deepImports(root), lazyFormData],
      metafile: true,
      logLevel: "warning"
    })
    const fresh = new Set(await readdir(join(stage, "chunks")))
    for (const f of fresh) await rename(join(stage, "chunks", f), join(out, "chunks", f))
    await chmod(join(stage, "ktrdr.mjs"), 0o755)
    for (const entry of ["index", "ktrdr"]) {
      await rename(join(stage, `${entry}.mjs.map`), join(out, `${entry}.mjs.map`))
      await rename(join(stage, `${entry}.mjs`), join(out, `${entry}.mjs`))
    }
    const hourAgo = Date.now() - 3_600_000
    for (const f of await readdir(join(out, "chunks"))) {
      const p = join(out, "chunks", f)
      if (!fresh.has(f) && (await stat(p)).mtimeMs < hourAgo) await rm(p, { force: true })
    }
    if (options.analyze) {
      for (const [file, o] of Object.entries(result.metafile.outputs)) {
        if (file.endsWith(".map")) continue
        process.stdout.write(
          `${file.replace(`${stage.slice(root.length + 1)}/`, "dist/")}  ${(o.bytes / 1024).toFixed(0)} KiB\n`
        )
      }
    }
    return result.metafile
  } finally {
    await rm(stage, { recursive: true, force: true })
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now()
  await buildCli({ analyze: process.argv.includes("--analyze") })
  process.stdout.write(`built dist/ktrdr.mjs and dist/index.mjs in ${(performance.now() - t0).toFixed(0)} ms\n`)
}
