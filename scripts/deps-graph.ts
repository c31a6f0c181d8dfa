/**
 * `npm run deps:graph [-- --check]`: the folder-level import graph of src/ as a Mermaid block in the
 * README (between the deps-graph markers), made from the same cruise as the layering rules. `--check`
 * fails when the README's block is not the current graph, so the picture cannot drift from the code.
 */
import { readFile, writeFile } from "node:fs/promises"
import { cruise, type ICruiseResult } from "dependency-cruiser"
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)
const rules = require("../.dependency-cruiser.cjs")
const START = "<!-- deps-graph:start (npm run deps:graph) -->"
const END = "<!-- deps-graph:end -->"

/** `src/http/handlers/x.ts` → `http`; top-level files keep their name. */
const unit = (path: string): string | undefined => {
  const m = /^src\/([^/]+)(\/)?/.exec(path)
  if (!m) return undefined
  return m[2] ? m[1] : m[1]!.replace(/\.ts$/, "")
}

const graph = async (): Promise<string> => {
  const result = await cruise(["src"], { ...rules.options, ruleSet: rules }, undefined, {
    tsConfig: extractTSConfig("tsconfig.json")
  })
  const output = result.output as ICruiseResult
  const edges = new Set<string>()
  for (const m of output.modules) {
    const from = unit(m.source)
    for (const d of m.dependencies) {
      const to = unit(d.resolved)
      if (from && to && from !== to) edges.add(`  ${from} --> ${to}`)
    }
  }
  return ["```mermaid", "flowchart TD", ...[...edges].sort(), "```"].join("\n")
}

const main = async () => {
  const readme = await readFile("README.md", "utf8")
  const a = readme.indexOf(START)
  const b = readme.indexOf(END)
  if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} block`)
  const next = `${readme.slice(0, a + START.length)}\n${await graph()}\n${readme.slice(b)}`
  if (process.argv.includes("--check")) {
    if (next !== readme) {
      console.error("README.md's dependency graph is out of date: run `npm run deps:graph`")
      process.exit(1)
    }
    return
  }
  await writeFile("README.md", next)
}

await main()
