/**
 * dist/ktrdr.mjs: the `ktrdr` launcher (cliLaunch.ts) as an ES module, for `node dist/ktrdr.mjs …`. The
 * package's bin is its CommonJS twin (cliLauncherCjs.ts): an ES-module entry starts Node's ES-module
 * loader first, ~5 ms of every command. This file is resolved through symlinks like any ES module.
 */
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { launch } from "./cliLaunch.ts"

await launch(dirname(fileURLToPath(import.meta.url)), () => import("./cliMain.ts"))
