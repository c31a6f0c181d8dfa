/**
 * Nothing a client sends can crash the simulator or another session: random handshakes, random frames of
 * random fields (valid message ids with wrong, missing or extra fields among them) and random bytes, thrown
 * at the gateway from several sockets while a well-behaved client keeps working.
 */
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { frameBytes, helloBytes, rawSocket, Resources, sleep, within } from "./support.ts"
import { TwsTestClient } from "./twsClient.ts"

const res = new Resources()
let sim: GatewaySimulator
let bystander: TwsTestClient
const log: Array<string> = []

beforeAll(async () => {
  // Fuzzed requests before START_API are legitimately left unanswered.
  sim = await res.sim({ pacing: "off", log: (l) => log.push(l) }, { allowUnanswered: true })
  bystander = await TwsTestClient.connect(sim.port, { minVersion: 100, maxVersion: 193, clientId: 999 })
  res.add(() => bystander.close())
})
afterAll(() => res.closeAll())

/** Fields that look like what clients send: ids, numbers, flags, symbols, dates, bar sizes, junk. */
const field = fc.oneof(
  fc.constantFrom("", "0", "1", "-1", "2", "8", "AAPL", "STK", "SMART", "USD", "TRADES", "1 min", "1 D", "True"),
  fc.constantFrom("20240305 16:00:00 US/Eastern", "20240305-16:00:00", "SCHEDULE", "CASH", "IDEALPRO", "9999999999"),
  fc.integer({ min: -5, max: 110 }).map(String),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 })
)
/** A frame: a message id (mostly real ones) and 0–30 fields. */
const frame = fc.tuple(fc.integer({ min: 0, max: 110 }).map(String), fc.array(field, { maxLength: 30 }))
  .map(([id, rest]) => frameBytes([id, ...rest]))
/** Requests with the field count of a v193 layout, so random values get past the count check to the handlers. */
const shaped = fc.constantFrom(
  [20, 22],
  [87, 17],
  [9, 18],
  [62, 4],
  [7, 9],
  [6, 3],
  [76, 5],
  [74, 4],
  [8, 2],
  [3, 5],
  [4, 4],
  [25, 2],
  [59, 2],
  [99, 1]
).chain(([id, n]) => fc.array(field, { minLength: n!, maxLength: n! }).map((rest) => frameBytes([String(id), ...rest])))
const chunk = fc.oneof(
  { weight: 4, arbitrary: frame },
  { weight: 4, arbitrary: shaped },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)) }
)
const hello = fc.oneof(
  fc.constant(helloBytes("v100..193")),
  fc.integer({ min: 1, max: 250 }).chain((lo) =>
    fc.integer({ min: lo, max: 260 }).map((hi) => helloBytes(`v${lo}..${hi}`))
  ),
  fc.string({ maxLength: 16 }).map((s) => helloBytes(s))
)
const session = fc.record({
  hello,
  start: fc.boolean(),
  clientId: fc.integer({ min: 0, max: 50 }),
  chunks: fc.array(chunk, { maxLength: 25 })
})

describe("fuzzing", () => {
  it("random sessions never crash the gateway or disturb another session", async () => {
    await fc.assert(
      fc.asyncProperty(session, async (s) => {
        const sock = await rawSocket(res, sim.port)
        const start = s.start ? frameBytes(["71", "2", String(s.clientId), ""]) : Buffer.alloc(0)
        sock.socket.write(Buffer.concat([s.hello, start]))
        for (const c of s.chunks) {
          if (sock.isClosed()) break
          sock.socket.write(c)
        }
        await sleep(5)
        sock.socket.destroy()
      }),
      { numRuns: 200, seed: 12 }
    )
    // The gateway is alive and the bystander is served, with nothing malformed on its side.
    const before = bystander.named("CURRENT_TIME").length
    bystander.send([49, 1])
    await bystander.waitFor("bystander answered", () => bystander.named("CURRENT_TIME").length === before + 1)
    bystander.reqContractDetails(1, { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" })
    await bystander.waitFor("bystander details", () => bystander.named("CONTRACT_DATA_END").length === 1)
    expect(bystander.closed).toBe(false)
    expect(bystander.malformed).toEqual([])
    const fresh = await within(
      TwsTestClient.connect(sim.port, { clientId: 1000 }),
      5000,
      "a new client connects after the fuzzing"
    )
    res.add(() => fresh.close())
    expect(fresh.serverVersion).toBe(178)
    expect(sim.stats().unreadable).toBeGreaterThan(0) // the fuzzer did reach the request decoder
    // No request reached a handler that threw (the session would survive-close, but it would be a bug).
    expect(log.filter((l) => l.includes("internal error"))).toEqual([])
  }, 120_000)
})
