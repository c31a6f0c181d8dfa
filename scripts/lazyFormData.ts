/**
 * esbuild plugin: HttpApiClient tests every request's payload with `request.payload instanceof
 * FormData`. In Node 20 the global `FormData` is a lazy getter that loads Node's bundled undici (~10–20
 * ms at a CLI's start) the first time anything reads it, even for a GET with no payload. The rewrite
 * reads `FormData` only when there is a payload: same result, and `ktrdr data show` never loads undici.
 * The build fails if the pinned @effect/platform no longer has the line (so the patch cannot go stale
 * silently).
 */
import type { Plugin } from "esbuild"
import { readFile } from "node:fs/promises"

const LINE = "if (request && request.payload instanceof FormData) {"
const LAZY = "if (request && request.payload !== undefined && request.payload instanceof FormData) {"

export const lazyFormData: Plugin = {
  name: "lazy-form-data",
  setup(build) {
    build.onLoad({ filter: /[\\/]@effect[\\/]platform[\\/]dist[\\/]esm[\\/]HttpApiClient\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8")
      if (!source.includes(LINE)) throw new Error(`lazy-form-data: "${LINE}" not found in ${args.path}`)
      return { contents: source.replace(LINE, LAZY), loader: "js" }
    })
  }
}
