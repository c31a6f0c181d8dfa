/**
 * CSV read+parse of 1,000,000 bars through BarStore.read. Figure: bars/s; baseline: reading the same file's bytes
 * (fs.readFile), so the ratio says what parsing costs on top of I/O. Goal: ≥ 2,000,000 bars/s.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { NO_EXTRAS } from "../src/domain/barCsv.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { makeBars } from "./barSeriesFixture.ts"
import { interleave, median, type Bench } from "./harness.ts"

const N = 1_000_000
const ROUNDS = 7

const bench: Bench = {
  name: "csv-read: BarStore.read of a 1,000,000-bar file vs reading its bytes",
  run: async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "ktrdr-bench-csv-"))
    try {
      const layer = BarStore.layer.pipe(
        Layer.provide(DataConfig.make({ dataDir })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
      const store = await Effect.runPromise(Effect.provide(BarStore, layer))
      const bars = makeBars(N)
      await Effect.runPromise(store.write("BENCH", "1m", { bars, extraColumns: [], extras: bars.map(() => NO_EXTRAS) }))
      const file = join(dataDir, "BENCH_1m.csv")
      let size = 0
      let count = 0
      const runs = await interleave(
        ROUNDS,
        async () => {
          const t0 = performance.now()
          count = (await Effect.runPromise(store.read("BENCH", "1m"))).bars.length
          return performance.now() - t0
        },
        async () => {
          const t0 = performance.now()
          size = (await readFile(file)).length
          return performance.now() - t0
        }
      )
      if (count !== N) throw new Error(`read ${count} bars, expected ${N}`)
      const parseMs = median(runs.a), bytesMs = median(runs.b)
      const barsPerSec = N / (parseMs / 1000)
      return {
        name: bench.name,
        figure: { label: "BarStore.read (median of 7)", value: barsPerSec, unit: "bars/s" },
        baseline: { label: "fs.readFile of the same file (median of 7)", value: bytesMs, unit: "ms" },
        ratio: parseMs / bytesMs,
        goal: "figure ≥ 2,000,000 bars/s (ratio = read+parse time ÷ read-bytes time, informative)",
        pass: barsPerSec >= 2_000_000,
        notes: [
          `file ${(size / 1e6).toFixed(1)} MB; read+parse median ${parseMs.toFixed(0)} ms (min ${
            Math.min(...runs.a).toFixed(0)
          }), bytes median ${bytesMs.toFixed(0)} ms`
        ]
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
