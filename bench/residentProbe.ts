/**
 * Run as `node --expose-gc --import tsx bench/residentProbe.ts <dataDir> <series> <timeframe>`: prints the heap +
 * ArrayBuffer growth (bytes) of holding one stored series read through BarStore, in a fresh process so no other
 * benchmark's garbage or caches blur the figure.
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { BarStore } from "../src/layers/BarStore.ts"
import { DataConfig } from "../src/layers/DataConfig.ts"

const [dataDir, series, timeframe] = process.argv.slice(2) as [string, string, string]
const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error("run with --expose-gc")
const used = () => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}
const layer = BarStore.layer.pipe(
  Layer.provide(DataConfig.make({ dataDir })),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)
const store = await Effect.runPromise(Effect.provide(BarStore, layer))
const before = used()
const held = await Effect.runPromise(store.read(series, timeframe))
const after = used()
process.stdout.write(`${JSON.stringify({ bars: held.length, bytes: after - before })}\n`)
