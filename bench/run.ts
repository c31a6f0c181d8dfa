/** `npm run bench [-- name-filter]`: runs every benchmark and prints each figure as a ratio to its baseline. */
import { readdirSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
import { dirname, join } from "node:path"
import { fmt, type Bench } from "./harness.ts"

const dir = dirname(fileURLToPath(import.meta.url))
const filter = process.argv[2] ?? ""
const files = readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).sort()
let failed = 0
for (const f of files) {
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default: Bench | ReadonlyArray<Bench> }
  const benches: ReadonlyArray<Bench> = Array.isArray(mod.default)
    ? mod.default as ReadonlyArray<Bench>
    : [mod.default as Bench]
  for (const bench of benches) {
    if (!bench.name.includes(filter)) continue
    const r = await bench.run()
    const verdict = r.pass ? "meets goal" : "MISSES goal"
    process.stdout.write(
      `${r.name}\n  ${r.figure.label}: ${fmt(r.figure.value)} ${r.figure.unit}\n  baseline ${r.baseline.label}: ${
        fmt(r.baseline.value)
      } ${r.baseline.unit}\n` +
        `  ratio ${fmt(r.ratio)} (goal ${r.goal}) — ${verdict}\n` +
        (r.notes ?? []).map((n) => `  ${n}\n`).join("")
    )
    if (!r.pass) failed++
  }
}
process.exitCode = failed > 0 ? 1 : 0
