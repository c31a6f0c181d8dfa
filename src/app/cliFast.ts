/**
 * The `ktrdr` program as one CommonJS script (dist/chunks/cli-fast-<hash>.cjs), which the bin
 * (src/app/cliLauncher.ts) compiles with a V8 code cache: every command that talks to a server. The
 * commands that run the core graph in this process (`serve`, `sim`, `--embedded`) are routed by the
 * launcher to the ES-module bundle (cliMain.ts); their imports are left out of this script at build
 * time (scripts/build-cli.ts), and reaching one here is a routing bug that fails loudly.
 */
import { runCli } from "./cliProgram.ts"
import { mark } from "../cli/timing.ts"

mark("modules")

runCli(process.argv, {
  load: () => Promise.reject(new Error("ktrdr: --embedded runs from the ES-module bundle (routing bug)"))
})
