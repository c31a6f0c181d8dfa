/**
 * The `ktrdr` bin as an ES module (bundled to dist/ktrdr.mjs): the program of src/app/cliProgram.ts
 * on this process's command line. `--embedded` loads the core graph as a bundle chunk.
 */
import { runCli } from "./cliProgram.ts"
import { mark } from "../cli/timing.ts"

mark("modules")

runCli(
  process.argv,
  { load: () => import("./embeddedClient.ts").then((m) => m.embeddedLayer) },
  { load: () => import("./dataTransferLive.ts").then((m) => m.transfer) }
)
