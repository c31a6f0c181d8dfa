/**
 * dist/ktrdr.cjs, the package's bin: the `ktrdr` launcher (cliLaunch.ts) as a CommonJS script, so a
 * command's start does not first start Node's ES-module loader (~5 ms: bench/cli-start). Node resolves a
 * main script through symlinks, so `__dirname` is dist/ wherever the bin is linked from. The commands
 * that need the ES-module bundle import its entry chunk by the path the build records.
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { launch } from "./cliLaunch.ts"

/** dist/chunks/cliMain-<hash>.mjs, relative to this file; set by the build. */
declare const KTRDR_ES_ENTRY: string

void launch(__dirname, () => import(pathToFileURL(join(__dirname, KTRDR_ES_ENTRY)).href))
