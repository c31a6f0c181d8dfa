/**
 * Connecting like an older client library: a client offering v157..178 that sends the six usual startup
 * requests (positions, open orders, completed orders, account updates, account updates multi, executions)
 * is fully connected once every end marker arrived. Figure: TCP connect → last end marker, with the gateway's
 * latency set to 20 ms. Baseline, same run: TCP connect → NEXT_VALID_ID on the same client (the bare
 * handshake). Goal (issue 12): ≤ 50 ms of simulator time plus the configured latency.
 */
import { GatewaySimulator } from "../src/sim/GatewaySimulator.ts"
import { TwsTestClient } from "../test/sim/twsClient.ts"
import { fmt, interleave, median, percentile, type Bench } from "./harness.ts"

const ROUNDS = 40
const LATENCY_MS = 20
const ENDS = [
  "POSITION_END",
  "OPEN_ORDER_END",
  "COMPLETED_ORDERS_END",
  "ACCT_DOWNLOAD_END",
  "ACCOUNT_UPDATE_MULTI_END",
  "EXECUTION_DATA_END"
]

const bench: Bench = {
  name: "sim: v157..178 client with six startup requests, connect → all end markers",
  run: async () => {
    const sim = await GatewaySimulator.start({ latencyMs: LATENCY_MS })
    let clientId = 0
    let malformed = 0
    const full = async () => {
      const t = performance.now()
      const c = await TwsTestClient.connect(sim.port, { clientId: ++clientId })
      c.startup("DU1234567", { multi: 1, executions: 2 })
      await c.waitFor("end markers", () => ENDS.every((e) => c.named(e).length === 1), 5000)
      const ms = performance.now() - t
      malformed += c.malformed.length
      c.close()
      return ms
    }
    const handshake = async () => {
      const t = performance.now()
      const c = await TwsTestClient.connect(sim.port, { clientId: ++clientId })
      const ms = performance.now() - t
      c.close()
      return ms
    }
    await full() // warm-up: module and JIT costs are not the gateway's
    const { a, b } = await interleave(ROUNDS, full, handshake)
    const stats = sim.stats()
    await sim.close()
    const figure = median(a)
    const target = 50 + LATENCY_MS
    return {
      name: bench.name,
      figure: {
        label: `connect → 6 end markers (median of ${ROUNDS}, latency ${LATENCY_MS} ms)`,
        value: figure,
        unit: "ms"
      },
      baseline: { label: "connect → NEXT_VALID_ID (bare handshake)", value: median(b), unit: "ms" },
      ratio: figure / median(b),
      goal: `figure ≤ ${target} ms (50 ms + latency)`,
      pass: figure <= target && malformed === 0 && stats.unanswered === 0,
      notes: [
        `p90 ${fmt(percentile(a, 90))} ms; figure minus latency ${fmt(figure - LATENCY_MS)} ms`,
        `malformed frames ${malformed}; unanswered ${stats.unanswered}; unsupported ${stats.unsupportedTotal}`
      ]
    }
  }
}

export default bench
