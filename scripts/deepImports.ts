/**
 * esbuild plugin: rewrites our sources' barrel imports (`import { Effect, Schema } from "effect"`) into
 * deep imports (`import * as Effect from "effect/Effect"`) at bundle time.
 *
 * Why: with code splitting, esbuild puts every module reachable from a shared barrel into a chunk that
 * every entry importing the barrel loads. `@effect/platform`'s barrel re-exports HttpApiSwagger (1.9 MB
 * of Swagger UI), so the CLI's remote client chunk carried it although only `ktrdr serve` uses it.
 * Deep imports give each chunk exactly the modules it reaches. The sources keep the barrel style the
 * rest of the project uses; only the bundle changes.
 */
import type { Plugin } from "esbuild"
import { readFileSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { join } from "node:path"

const BARRELS = ["effect", "@effect/platform", "@effect/platform-node", "@effect/cli"] as const

interface Target {
  readonly module: string
  /** undefined: the name is a namespace (`export * as Name`); else the name inside `module`. */
  readonly named?: string
}

/** Export name → deep module, read from the barrel's own index.js. */
const barrelMap = (root: string, pkg: string): ReadonlyMap<string, Target> => {
  const index = readFileSync(join(root, "node_modules", pkg, "dist", "esm", "index.js"), "utf8")
  const map = new Map<string, Target>()
  for (const m of index.matchAll(/export \* as (\w+) from "\.\/([\w/]+)\.js"/g)) {
    map.set(m[1]!, { module: `${pkg}/${m[2]}` })
  }
  for (const m of index.matchAll(/export \{([^}]*)\} from "\.\/([\w/]+)\.js"/g)) {
    for (const spec of m[1]!.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const [name, alias] = spec.split(/\s+as\s+/)
      map.set((alias ?? name)!, { module: `${pkg}/${m[2]}`, named: name! })
    }
  }
  return map
}

const IMPORT =
  /import\s+(type\s+)?\{([^}]*)\}\s+from\s+"(effect|@effect\/platform|@effect\/platform-node|@effect\/cli)"\s*;?/g

export const deepImports = (root: string): Plugin => ({
  name: "deep-imports",
  setup(build) {
    const maps = new Map(BARRELS.map((b) => [b, barrelMap(root, b)] as const))
    build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8")
      const contents = source.replace(
        IMPORT,
        (whole, typeOnly: string | undefined, specs: string, pkg: (typeof BARRELS)[number]) => {
          if (typeOnly) return whole
          const map = maps.get(pkg)!
          const out: Array<string> = []
          for (const raw of specs.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
            // Type-only specifiers are erased by esbuild anyway.
            if (raw.startsWith("type ")) continue
            const [name, alias] = raw.split(/\s+as\s+/) as [string, string | undefined]
            const target = map.get(name)
            if (target === undefined) return whole // unknown export: leave the statement to esbuild
            const local = alias ?? name
            out.push(
              target.named === undefined
                ? `import * as ${local} from "${target.module}";`
                : `import { ${target.named} as ${local} } from "${target.module}";`
            )
          }
          return out.join(" ")
        }
      )
      return { contents, loader: "ts" }
    })
  }
})
