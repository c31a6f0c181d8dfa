/**
 * Event-loop delay while a 1,000,000-bar series is read, merged with 1,000 new bars (half replacing stored bars in the
 * middle, half appended) and saved, through BarStore. Figure: max delay seen by monitorEventLoopDelay (10 ms
 * resolution); baseline: the same monitor over an idle interval of the same length. Goal: max ≤ 50 ms.
 */
import { mkdtemp, rm } from "node:fs/promises"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { Effect, Layer, Logger, LogLevel } from "effect"
import type { Bar } from "../src/domain/Bar.ts"
import { NO_EXTRAS } from "../src/domain/barCsv.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"
import { makeBars } from "./barSeriesFixture.ts"
import type { Bench } from "./harness.ts"

const N = 1_000_000
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
  name: "event-loop: delay while a 1M-bar series is read, merged with 1,000 bars and saved",
  run: async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "ktrdr-bench-loop-"))
    try {
      const layer = BarStore.layer.pipe(
        Layer.provide(DataConfig.make({ dataDir })),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
      const store = await Effect.runPromise(Effect.provide(BarStore, layer))
      let bars: Array<Bar> | undefined = makeBars(N)
      await Effect.runPromise(store.write("LOOP", "1m", { bars, extraColumns: [], extras: bars.map(() => NO_EXTRAS) }))
      const last = bars[N - 1]!.time
      const replacing = Array.from({ length: 500 }, (_, i) => ({ ...bars![i * 1999 + 7]!, close: 1 + i / 100 }))
      const appended = makeBars(500, last + 60_000, 60_000, 7)
      bars = undefined
      await sleep(200) // let the setup's garbage settle before measuring
      let total = 0
      const busy = await monitored(async () => {
        // the caller looks at what it read and lets it go (held across the merge it would be a second 1M-bar graph)
        const count = (await Effect.runPromise(store.read("LOOP", "1m"))).bars.length
        if (count !== N) throw new Error("short read")
        total = (await Effect.runPromise(store.merge("LOOP", "1m", [...replacing, ...appended]))).total
      })
      if (total !== N + 500) throw new Error(`merged total ${total}, expected ${N + 500}`)
      const idle = await monitored(() => sleep(busy.wall))
      return {
        name: bench.name,
        figure: { label: "max event-loop delay (read + merge + save)", value: busy.max, unit: "ms" },
        baseline: { label: "max delay over an idle interval as long", value: idle.max, unit: "ms" },
        ratio: busy.max / Math.max(idle.max, 1),
        goal: "figure ≤ 50 ms (ratio informative)",
        pass: busy.max <= 50,
        notes: [
          `busy: p99 ${busy.p99.toFixed(1)} ms over ${busy.wall.toFixed(0)} ms; idle: max ${
            idle.max.toFixed(1)
          } ms, p99 ${idle.p99.toFixed(1)} ms`
        ]
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
