/** The BarStore contract on KTRDR's CSV files: a fresh data directory per case. */
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Layer, Logger, LogLevel } from "effect"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { barStoreSuite } from "./barStore.suite.ts"

barStoreSuite({
  name: "CSV files",
  fresh: async () => {
    const root = await mkdtemp(join(tmpdir(), "ktrdr-suite-"))
    return {
      layer: BarStore.layer.pipe(
        Layer.provide(DataConfig.make({ dataDir: join(root, "data") })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      ),
      close: () => rm(root, { recursive: true, force: true })
    }
  }
})
