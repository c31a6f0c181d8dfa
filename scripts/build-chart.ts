/**
 * Builds the chart page into `dist/chart` (or the directory given): `main.ts` and lightweight-charts
 * bundled into one minified ES module, the stylesheet minified, `index.html` copied. Everything the page
 * needs is in that directory, so the server can serve it offline. Run: `npm run build:chart`.
 */
import { build } from "esbuild"
import { copyFile, mkdir, rm } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const src = join(root, "src", "chart")

export const buildChart = async (outDir = join(root, "dist", "chart")) => {
  // Start clean so a renamed or deleted file cannot linger and be served.
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const result = await build({
    entryPoints: [join(src, "main.ts"), join(src, "styles.css")],
    outdir: outDir,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: ["chrome115"],
    sourcemap: "linked",
    legalComments: "linked",
    metafile: true,
    logLevel: "warning"
  })
  await copyFile(join(src, "index.html"), join(outDir, "index.html"))
  return Object.keys(result.metafile.outputs)
}

// Run directly (not when imported by the tests).
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2]
  const outputs = await buildChart(outDir)
  const names = [...outputs.map((f) => f.split(/[\\/]/).pop()!), "index.html"].sort()
  process.stdout.write(`chart built into ${outDir ?? "dist/chart"}: ${names.join(", ")}\n`)
}
