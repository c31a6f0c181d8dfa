/**
 * Event-loop delay while a 1,000,000-bar series is read, merged with 1,000 new bars (half replacing stored bars in the
 * middle, half appended) and saved, through BarStore — 20 runs. Figure: the worst run's max delay seen by
 * monitorEventLoopDelay (10 ms resolution); baseline: the same monitor over an idle interval as long as one run.
 * Goal: max ≤ 50 ms in 20 of 20 runs. `BENCH_LOOP_RUNS` changes the run count.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { Effect, Layer, Logger, LogLevel } from "effect"
import { barAt, SeriesBuilder } from "../src/domain/barSeries.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { makeSeries } from "./barSeriesFixture.ts"
import { median, type Bench } from "./harness.ts"

const N = 1_000_000
const RUNS = Number(process.env.BENCH_LOOP_RUNS ?? 20)
const ms = (ns: number) => ns / 1e6

const monitored = async (work: () => Promise<unknown>) => {
  const h = monitorEventLoopDelay({ resolution: 10 })
  h.enable()
  const t0 = performance.now()
  await work()
  const wall = performance.now() - t0
  h.disable()
  return { max: ms(h.max), p99: ms(h.percentile(99)), wall }
}

const bench: Bench = {
  name: "event-loop: delay while a 1M-bar series is read, merged with 1,000 bars and saved (20 runs)",
  run: async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "ktrdr-bench-loop-"))
    try {
      const layer = BarStore.layer.pipe(
        Layer.provide(DataConfig.make({ dataDir })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
      const store = await Effect.runPromise(Effect.provide(BarStore, layer))
      const base = makeSeries(N)
      await Effect.runPromise(store.write("LOOP", "1m", base))
      const busy: Array<{ max: number; p99: number; wall: number }> = []
      for (let run = 0; run < RUNS; run++) {
        // each run replaces 500 stored bars in the middle and appends 500 after the (growing) end
        const stored = await Effect.runPromise(store.read("LOOP", "1m"))
        const last = stored.time[stored.length - 1]!
        const batch = new SeriesBuilder([], 1000)
        for (let i = 0; i < 500; i++) batch.pushBar({ ...barAt(stored, i * 1999 + 7), close: 1 + (i + run) / 100 })
        const tail = makeSeries(500, last + 60_000, 60_000, 7 + run)
        for (let i = 0; i < tail.length; i++) batch.pushBar(barAt(tail, i))
        const incoming = batch.finish()
        const expected = stored.length + 500
        await sleep(100) // let the setup's garbage settle before measuring
        let total = 0
        busy.push(
          await monitored(async () => {
            const count = (await Effect.runPromise(store.read("LOOP", "1m"))).length
            if (count !== expected - 500) throw new Error("short read")
            total = (await Effect.runPromise(store.merge("LOOP", "1m", incoming))).total
          })
        )
        if (total !== expected) throw new Error(`merged total ${total}, expected ${expected}`)
      }
      const idle = await monitored(() => sleep(median(busy.map((b) => b.wall))))
      const worst = Math.max(...busy.map((b) => b.max))
      const within = busy.filter((b) => b.max <= 50).length
      return {
        name: bench.name,
        figure: {
          label: `worst max event-loop delay over ${RUNS} runs (read + merge + save)`,
          value: worst,
          unit: "ms"
        },
        baseline: { label: "max delay over an idle interval as long as one run", value: idle.max, unit: "ms" },
        ratio: worst / Math.max(idle.max, 1),
        goal: `figure ≤ 50 ms in ${RUNS} of ${RUNS} runs (ratio informative)`,
        pass: within === RUNS,
        notes: [
          `${within} of ${RUNS} runs ≤ 50 ms; per-run max (ms): ${busy.map((b) => b.max.toFixed(0)).join(", ")}`,
          `run wall median ${median(busy.map((b) => b.wall)).toFixed(0)} ms; idle max ${idle.max.toFixed(1)} ms`
        ]
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
