/**
 * Our IB layer (IbConnection + IbClient over @stoqey/ib) against gateways of different server versions: the
 * lowest @stoqey/ib accepts (100), 176, 187 and the newest (193). Handshake, contract details of every
 * security type, head timestamps, bars of every size, errors and a reconnect must give identical results.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer } from "effect"
import { IbClient, type ContractSpec, type HistoricalRequest } from "../../src/layers/IbClient.ts"
import { IbConnection } from "../../src/layers/IbConnection.ts"
import { eventually, ibLayer, startSim, testSettings } from "./support.ts"

const VERSIONS = [100, 176, 187, 193] as const

const AAPL: ContractSpec = { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" }
const CONTRACTS: ReadonlyArray<ContractSpec> = [
  AAPL,
  { symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD" },
  { symbol: "ES", secType: "FUT", exchange: "CME", currency: "USD" },
  { symbol: "SPX", secType: "IND", exchange: "CBOE", currency: "USD" }
]

/** Every legal bar size with a duration IB accepts for it, ending at a fixed instant. */
const BAR_SIZES: ReadonlyArray<readonly [barSize: string, duration: string]> = [
  ["1 secs", "60 S"],
  ["5 secs", "300 S"],
  ["10 secs", "600 S"],
  ["15 secs", "900 S"],
  ["30 secs", "1800 S"],
  ["1 min", "1 D"],
  ["2 mins", "1 D"],
  ["3 mins", "1 D"],
  ["5 mins", "1 D"],
  ["10 mins", "1 D"],
  ["15 mins", "2 D"],
  ["20 mins", "2 D"],
  ["30 mins", "1 W"],
  ["1 hour", "1 W"],
  ["2 hours", "1 W"],
  ["3 hours", "1 W"],
  ["4 hours", "1 M"],
  ["8 hours", "1 M"],
  ["1 day", "1 Y"],
  ["1 week", "1 Y"],
  ["1 month", "2 Y"]
]

const bars = (barSize: string, duration: string): HistoricalRequest => ({
  contract: AAPL,
  end: Date.UTC(2024, 2, 5, 21, 0),
  duration,
  barSize,
  whatToShow: "TRADES",
  useRTH: true,
  timeZone: "US/Eastern"
})

const errorOf = <A, E extends { code: number; category: string }>(e: Either.Either<A, E>) =>
  Either.isLeft(e) ? { code: e.left.code, category: e.left.category } : { ok: true }

/** Everything the layer reports against a gateway of server version `v`, as plain data. */
const observe = (v: number) =>
  Effect.gen(function*() {
    const sim = yield* startSim({ serverVersion: v, pacing: "off" })
    const ctx = yield* Layer.build(ibLayer(testSettings(sim)))
    const ib = yield* Effect.provide(IbClient, ctx)
    const conn = yield* Effect.provide(IbConnection, ctx)
    yield* conn.session({ historical: false })
    const handshake = (yield* conn.info).serverVersion
    const details = []
    for (const c of CONTRACTS) details.push(yield* ib.contractDetails(c))
    const head = yield* Effect.either(ib.headTimestamp(AAPL, { whatToShow: "TRADES", useRTH: true }))
    const series: Record<string, unknown> = {}
    for (const [size, duration] of BAR_SIZES) series[size] = yield* ib.historicalBars(bars(size, duration))
    const errors = {
      unknownContract: errorOf(yield* Effect.either(ib.contractDetails({ ...AAPL, symbol: "NOSUCHSYMBOL" }))),
      badDuration: errorOf(yield* Effect.either(ib.historicalBars(bars("1 hour", "7 Q")))),
      forexTrades: errorOf(
        yield* Effect.either(ib.historicalBars({ ...bars("1 hour", "1 D"), contract: CONTRACTS[1]! }))
      )
    }
    yield* Effect.promise(() => sim.setFaults({ dropConnections: true }))
    yield* eventually("reconnected", () => sim.stats().totalConnections, (n) => n === 2)
    yield* conn.session({ historical: false })
    const afterReconnect = yield* ib.historicalBars(bars("1 hour", "1 W"))
    const reconnects = (yield* conn.info).counters.reconnects
    const stats = sim.stats()
    return {
      handshake,
      details,
      head: Either.isRight(head) ? head.right : errorOf(head),
      series,
      errors,
      afterReconnect,
      reconnects,
      unanswered: stats.unanswered,
      unsupported: stats.unsupportedTotal,
      unreadable: stats.unreadable
    }
  }).pipe(Effect.scoped)

describe("IbConnection + IbClient across gateway versions", () => {
  it.live(
    "v100, v176, v187 and v193 give the same results (head timestamps need v118: a typed error at v100)",
    () =>
      Effect.gen(function*() {
        const seen = new Map<number, Effect.Effect.Success<ReturnType<typeof observe>>>()
        for (const v of VERSIONS) seen.set(v, yield* observe(v))
        const newest = seen.get(193)!
        expect(newest.details.map((d) => d.length)).toEqual([1, 1, newest.details[2]!.length, 1])
        expect(newest.details[2]!.length).toBeGreaterThan(1) // several ES expiries
        expect(typeof newest.head).toBe("number")
        for (const [size] of BAR_SIZES) expect((newest.series[size] as Array<unknown>).length, size).toBeGreaterThan(0)
        expect(newest.errors).toEqual({
          unknownContract: { code: 200, category: "no-security-definition" },
          badDuration: { code: 321, category: "validation" },
          forexTrades: { code: 162, category: "permission" }
        })
        expect(newest.reconnects).toBe(1)
        for (const v of VERSIONS) {
          const o = seen.get(v)!
          expect(o.handshake, `v${v}`).toBe(v)
          expect(o.details, `v${v}`).toEqual(newest.details)
          expect(o.series, `v${v}`).toEqual(newest.series)
          expect(o.errors, `v${v}`).toEqual(newest.errors)
          expect(o.afterReconnect, `v${v}`).toEqual(newest.afterReconnect)
          expect(o.reconnects, `v${v}`).toBe(1)
          expect({ unanswered: o.unanswered, unsupported: o.unsupported, unreadable: o.unreadable }, `v${v}`).toEqual({
            unanswered: 0,
            unsupported: 0,
            unreadable: 0
          })
          if (v >= 118) expect(o.head, `v${v}`).toBe(newest.head)
        }
        // @stoqey/ib itself refuses reqHeadTimestamp below v118 (its error 503, "update TWS"): a typed failure.
        expect(seen.get(100)!.head).toMatchObject({ code: 503 })
      }),
    { timeout: 120_000 }
  )
})
