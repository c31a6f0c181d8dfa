/**
 * CSV read+parse of 1,000,000 bars through BarStore.read, into columns. Baseline: reading the same file's bytes
 * (fs.readFile), so the ratio says what parsing costs on top of I/O; goal ≤ 2.5. When python3 with pandas is
 * installed, KTRDR's own path — `pd.read_csv(file, index_col=0, parse_dates=True)` — is timed on the same file too,
 * and must be ≥ 10× slower than ours (skipped, and said so, when pandas is absent).
 */
import { spawnSync } from "node:child_process"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { BarStore } from "../src/layers/BarStore.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { makeSeries } from "./barSeriesFixture.ts"
import { interleave, median, type Bench } from "./harness.ts"

const N = 1_000_000
const ROUNDS = 7

/** Median seconds of pandas' read over 3 runs, timed inside Python (interpreter start excluded); else undefined. */
const pandasSeconds = (file: string): number | undefined => {
  const code = "import sys,time\ntry:\n import pandas as pd\nexcept ImportError:\n print('absent'); sys.exit(0)\n" +
    "ts=[]\nfor _ in range(3):\n t=time.perf_counter(); pd.read_csv(sys.argv[1], index_col=0, parse_dates=True)\n" +
    " ts.append(time.perf_counter()-t)\nprint(sorted(ts)[1])\n"
  // the first python3 on PATH may be a pyenv one without pandas, while Debian's python3-pandas is for /usr/bin's
  for (const python of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(python, ["-c", code, file], { encoding: "utf8" })
    const out = (r.stdout ?? "").trim()
    if (r.status === 0 && out !== "absent" && out !== "") return Number(out)
  }
  return undefined
}

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
      await Effect.runPromise(store.write("BENCH", "1m", makeSeries(N)))
      const file = join(dataDir, "BENCH_1m.csv")
      let size = 0
      let count = 0
      const runs = await interleave(
        ROUNDS,
        async () => {
          const t0 = performance.now()
          count = (await Effect.runPromise(store.read("BENCH", "1m"))).length
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
      const ratio = parseMs / bytesMs
      const pandas = pandasSeconds(file)
      const pandasRatio = pandas === undefined ? undefined : (pandas * 1000) / parseMs
      return {
        name: bench.name,
        figure: { label: "BarStore.read (median of 7)", value: parseMs, unit: "ms" },
        baseline: { label: "fs.readFile of the same file (median of 7)", value: bytesMs, unit: "ms" },
        ratio,
        goal: "≤ 2.5; pandas read_csv(parse_dates=True) ≥ 10× slower when present",
        pass: ratio <= 2.5 && (pandasRatio === undefined || pandasRatio >= 10),
        notes: [
          `file ${(size / 1e6).toFixed(1)} MB; ${(N / (parseMs / 1000) / 1e6).toFixed(2)} M bars/s; read+parse ` +
          `min ${Math.min(...runs.a).toFixed(0)} ms, bytes min ${Math.min(...runs.b).toFixed(0)} ms`,
          pandas === undefined
            ? "pandas baseline skipped: python3 with pandas is not installed (apt-get install python3-pandas)"
            : `pandas read_csv(index_col=0, parse_dates=True): ${(pandas * 1000).toFixed(0)} ms = ${
              pandasRatio!.toFixed(1)
            }× ours (goal ≥ 10)`
        ]
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
