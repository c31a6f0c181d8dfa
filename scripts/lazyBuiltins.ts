/**
 * esbuild plugin for the CLI's CommonJS script: Node built-ins that a command may never touch are
 * required on first use instead of when the bundle is evaluated. A CommonJS bundle runs every module's
 * `require("node:…")` at start; for `ktrdr data show` that loaded crypto, readline, https/tls and os
 * (~10 ms of Node's own modules) without using them. Each such import becomes an object with one getter
 * per export of the real module (listed at build time, by the same Node that runs the build), which
 * requires the module the first time any export is read.
 */
import type { Plugin } from "esbuild"
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)

export const lazyBuiltins = (names: ReadonlyArray<string>): Plugin => ({
  name: "lazy-builtins",
  setup(build) {
    const lazy = new Set(names)
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (a) => {
      if (a.namespace === "lazy-builtin") return { path: a.path, external: true }
      const name = a.path.replace(/^node:/, "")
      return lazy.has(name) ? { path: name, namespace: "lazy-builtin" } : undefined
    })
    build.onLoad({ filter: /.*/, namespace: "lazy-builtin" }, (a) => {
      const id = JSON.stringify(`node:${a.path}`)
      const keys = Object.keys(require(`node:${a.path}`) as object)
      return {
        loader: "js",
        contents: [
          `let real; const load = () => real ??= require(${id});`,
          ...keys.map((k) =>
            `Object.defineProperty(exports, ${JSON.stringify(k)}, { enumerable: true, get: () => load()[${
              JSON.stringify(k)
            }] });`
          )
        ].join("\n")
      }
    })
  }
})
