/**
 * Simulator throughput: a 1 D × 1 min request (390 bars) round trip through unmodified @stoqey/ib,
 * against a currentTime round trip on the same connection. Goal: ≤ 5× — the simulator must never be
 * what limits later benchmarks.
 */
import { BarSizeSetting, IBApiNext, WhatToShow } from "@stoqey/ib"
import { firstValueFrom, filter } from "rxjs"
import { parseBarSize, parseDuration, parseEndDateTime } from "../src/domain/IbHistoricalRules.ts"
import { GatewaySimulator } from "../src/sim/GatewaySimulator.ts"
import { generateBars } from "../src/sim/historicalBars.ts"
import { historicalFrame } from "../src/sim/historicalRequest.ts"
import { SPOT } from "../src/sim/instruments.ts"
import { encodeBody } from "../src/sim/wire.ts"
import { interleave, median, type Bench } from "./harness.ts"

const ROUNDS = 60

const bench: Bench = {
  name: "sim: 390-bar historical round trip vs currentTime round trip",
  run: async () => {
    const sim = await GatewaySimulator.start({ pacing: "off" })
    // The library's default client-side rate limit (40 req/s) would dominate both round trips.
    const ib = new IBApiNext({ host: "127.0.0.1", port: sim.port, reconnectInterval: 0, maxReqPerSec: 1000 })
    ib.connect(1)
    await firstValueFrom(ib.connectionState.pipe(filter((s) => s === 2)))
    await ib.getCurrentTime()
    let bars = 0
    // Different days so each request is a fresh answer, not a memoised frame.
    const days = ["20250102", "20250103", "20250106", "20250107", "20250108", "20250109", "20250110", "20250113"]
    let i = 0
    const historical = async () => {
      const t = performance.now()
      const r = await ib.getHistoricalData(
        { conId: 265598, exchange: "SMART" },
        `${days[i++ % days.length]} 16:00:00 US/Eastern`,
        "1 D",
        BarSizeSetting.MINUTES_ONE,
        WhatToShow.TRADES,
        1,
        2
      )
      bars = r.length
      return performance.now() - t
    }
    const currentTime = async () => {
      const t = performance.now()
      await ib.getCurrentTime()
      return performance.now() - t
    }
    for (let w = 0; w < 10; w++) await historical() // warm the day paths and the JIT
    const { a, b } = await interleave(ROUNDS, historical, currentTime)
    ib.disconnect()
    await sim.close()
    const h = median(a)
    const c = median(b)
    const own = simulatorShare()
    return {
      name: bench.name,
      figure: { label: `median historical (${bars} bars)`, value: h, unit: "ms" },
      baseline: { label: "median currentTime", value: c, unit: "ms" },
      ratio: h / c,
      goal: "≤ 5",
      pass: h / c <= 5,
      notes: [
        `simulator's own work per 390-bar answer (generate + encode, in-process): ${own.toFixed(3)} ms = ${
          (own / c).toFixed(2)
        }× the currentTime round trip;`,
        `the rest of the historical round trip is @stoqey/ib decoding 3,120 fields and emitting 391 events`
      ]
    }
  }
}
export default bench

/** Median in-process cost of answering the benchmark's request, without sockets or the client. */
const simulatorShare = (): number => {
  const inst = SPOT.find((i) => i.conId === 265598)!
  const end = parseEndDateTime("20250102 16:00:00 US/Eastern", "UTC")
  if (end?._tag !== "At") throw new Error("bad end")
  const q = {
    inst,
    endMs: end.ms,
    nowMs: Date.now(),
    duration: parseDuration("1 D")!,
    bar: parseBarSize("1 min")!,
    useRTH: true,
    whatToShow: "TRADES" as const
  }
  const xs: Array<number> = []
  for (let i = 0; i < 300; i++) {
    const t = performance.now()
    const a = generateBars(q)
    encodeBody(historicalFrame(1, inst, 2, a.fromMs, a.toMs, a.bars, 193).body)
    xs.push(performance.now() - t)
  }
  return median(xs)
}
