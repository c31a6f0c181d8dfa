import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Layer, Logger } from "effect"
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { IbClient } from "../../src/layers/IbClient.ts"
import { SymbolCatalog, SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import type { IbSettings } from "../../src/layers/Config.ts"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import { ibLayer, startSim, testSettings } from "../layers/support.ts"

const DAY = 86_400_000
/** Monday 2026-03-02 10:00 New York: ES's front month is March (expires the 20th). */
const T0 = Date.UTC(2026, 2, 2, 15)
const FIXTURE = join(import.meta.dirname, "../fixtures/ktrdr/symbol_discovery_cache.json")

/** A clock whose time the test sets; sleeps stay real so IB timeouts behave. */
const pinnedClock = (start: number) => {
  let now = start
  const real = Clock.make()
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(Math.floor(now)) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(Math.floor(now)) * 1_000_000n),
    sleep: (d) => real.sleep(d)
  }
  return { clock, advance: (ms: number) => void (now += ms) }
}

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-catalog-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

const requests = (sim: GatewaySimulator) => sim.stats().requests

/** A catalog over `dir`, its calls run at the pinned time; `logs` collects warnings. */
const catalogOn = (sim: GatewaySimulator, dir: string, clock: Clock.Clock, ibSettings: Partial<IbSettings> = {}) =>
  Effect.gen(function*() {
    const logs: Array<string> = []
    const logger = Logger.make(({ message }) =>
      void logs.push(Array.isArray(message) ? message.join(" ") : String(message))
    )
    const layer = SymbolCatalogLive.pipe(
      Layer.provideMerge(Layer.merge(ibLayer(testSettings(sim, ibSettings)), DataConfig.make({ dataDir: dir })))
    )
    const ctx = yield* Layer.build(layer).pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Effect.withClock(clock)
    )
    const catalog = yield* Effect.provide(SymbolCatalog, ctx)
    const ib = yield* Effect.provide(IbClient, ctx)
    const at = <A, E>(e: Effect.Effect<A, E>) =>
      e.pipe(Effect.withClock(clock), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
    return { catalog, ib, at, logs }
  })

const setup = (start = T0) =>
  Effect.gen(function*() {
    const sim = yield* startSim({ clock: () => T0 })
    const dir = yield* tempDir
    const pinned = pinnedClock(start)
    return { sim, dir, pinned, ...(yield* catalogOn(sim, dir, pinned.clock)) }
  })

const readJson = (file: string) =>
  Effect.promise(async () => JSON.parse(await readFile(file, "utf8")) as Record<string, any>)

describe("SymbolCatalog against the simulator", () => {
  it.live("resolves a stock, a forex pair, futures and indices", () =>
    Effect.gen(function*() {
      const { sim, catalog, ib, at } = yield* setup()
      const aapl = yield* at(catalog.resolve("aapl"))
      expect(aapl).toMatchObject({
        symbol: "AAPL",
        seriesKey: "AAPL",
        secType: "STK",
        conId: 265598,
        exchange: "SMART",
        primaryExchange: "NASDAQ",
        currency: "USD",
        description: "APPLE INC",
        timeZone: "America/New_York",
        calendarId: "us-equity",
        contract: { conId: 265598, exchange: "SMART" }
      })
      expect(aapl.tradingHours).toMatch(/^\d{8}:/)
      const eur = yield* at(catalog.resolve("eur/usd"))
      expect(eur).toMatchObject({
        symbol: "EUR.USD",
        seriesKey: "EURUSD",
        secType: "CASH",
        conId: 12087792,
        ibSymbol: "EUR",
        exchange: "IDEALPRO",
        currency: "USD",
        calendarId: "forex"
      })
      const es = yield* at(catalog.resolve("ES"))
      expect(es).toMatchObject({
        symbol: "ES",
        seriesKey: "ES",
        secType: "FUT",
        exchange: "CME",
        localSymbol: "ESH6",
        expiry: "20260320",
        multiplier: "50",
        calendarId: "cme-equity-futures",
        timeZone: "America/Chicago"
      })
      const esz = yield* at(catalog.resolve("ESZ6"))
      expect(esz).toMatchObject({ symbol: "ESZ2026", seriesKey: "ESZ2026", localSymbol: "ESZ6", expiry: "20261218" })
      expect(yield* at(catalog.resolve("SPX"))).toMatchObject({
        secType: "IND",
        conId: 416904,
        exchange: "CBOE",
        calendarId: "us-index"
      })
      expect(yield* at(catalog.resolve("^ndx"))).toMatchObject({ seriesKey: "NDX", secType: "IND", exchange: "NASDAQ" })
      expect(requests(sim).contractDetails).toBe(6)

      // The contract an instrument carries is one IB accepts for bars and head timestamps.
      const bars = yield* ib.historicalBars({
        contract: es.contract,
        end: Date.UTC(2026, 1, 27, 21),
        duration: "1 D",
        barSize: "1 hour",
        whatToShow: "TRADES",
        useRTH: true
      })
      expect(bars.length).toBeGreaterThan(0)
      expect(new Date(yield* at(catalog.headTimestamp(aapl, "1h"))).toISOString()).toBe("1980-12-12T14:30:00.000Z")
      expect(yield* at(catalog.headTimestamp(eur, "1h"))).toBeLessThan(Date.UTC(2006, 0, 1))
    }).pipe(Effect.scoped))

  it.live("an unknown symbol is a typed error with IB's code 200 and suggestions; bad input never reaches IB", () =>
    Effect.gen(function*() {
      const { sim, dir, catalog, at } = yield* setup()
      const e = yield* at(catalog.resolve("APPL")).pipe(Effect.flip)
      expect(e).toMatchObject({ _tag: "UnknownSymbol", symbol: "APPL", code: 200, tried: ["STK", "IND", "FUT"] })
      expect(e._tag === "UnknownSymbol" && e.suggestions[0]).toBe("AAPL")
      expect(e.message).toMatch(/Did you mean AAPL/)
      expect(e._tag === "UnknownSymbol" && e.reqId).toBeGreaterThan(0)
      const fx = yield* at(catalog.resolve("EURUSX")).pipe(Effect.flip)
      expect(fx._tag === "UnknownSymbol" && fx.suggestions).toContain("EUR.USD")
      expect(requests(sim).contractDetails).toBe(6)
      for (const bad of ["../etc", "a/b", "", "AA PL", "x".repeat(33)]) {
        expect(yield* at(catalog.resolve(bad)).pipe(Effect.flip)).toMatchObject({
          _tag: "InvalidInput",
          field: "symbol"
        })
      }
      expect(requests(sim).contractDetails).toBe(6)
      // Failures are not cached (KTRDR's blacklist of valid symbols was a bug): nothing was written.
      expect(yield* Effect.promise(() => readdir(dir))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("writes KTRDR's schema atomically and a new process reuses it without IB requests", () =>
    Effect.gen(function*() {
      const { sim, dir, catalog, at } = yield* setup()
      const aapl = yield* at(catalog.resolve("AAPL"))
      yield* at(catalog.resolve("EUR.USD"))
      yield* at(catalog.headTimestamp(aapl, "1h"))
      const file = yield* readJson(catalog.file)
      expect(catalog.file).toBe(join(dir, "symbol_discovery_cache.json"))
      expect(Object.keys(file)).toEqual(["cache", "validated_symbols", "last_updated"])
      expect(file.validated_symbols).toEqual(["AAPL", "EURUSD"])
      expect(file.last_updated).toBeCloseTo(T0 / 1000)
      expect(file.cache.AAPL).toMatchObject({
        symbol: "AAPL",
        asset_type: "STK",
        exchange: "NASDAQ",
        currency: "USD",
        description: "APPLE INC",
        validated_at: T0 / 1000,
        trading_hours: {
          timezone: "America/New_York",
          regular_hours: { start: "09:30", end: "16:00", name: "Regular" },
          trading_days: [0, 1, 2, 3, 4]
        },
        head_timestamp: "1980-12-12T14:30:00+00:00",
        head_timestamp_timeframes: { "1h": "1980-12-12T14:30:00+00:00", default: "1980-12-12T14:30:00+00:00" },
        head_timestamp_fetched_at: T0 / 1000,
        ib_contract: { con_id: 265598, symbol: "AAPL", exchange: "SMART" }
      })
      expect(file.cache.EURUSD).toMatchObject({
        symbol: "EURUSD",
        asset_type: "CASH",
        exchange: "IDEALPRO",
        currency: "USD",
        head_timestamp: null
      })
      expect(yield* Effect.promise(() => readdir(dir))).toEqual(["symbol_discovery_cache.json"])

      const before = requests(sim)
      const again = yield* catalogOn(sim, dir, pinnedClock(T0 + DAY / 2).clock)
      expect(yield* again.at(again.catalog.resolve("aapl"))).toEqual(aapl)
      expect((yield* again.at(again.catalog.resolve("EURUSD"))).conId).toBe(12087792)
      expect(new Date(yield* again.at(again.catalog.headTimestamp(aapl, "1d"))).toISOString()).toBe(
        "1980-12-12T14:30:00.000Z"
      )
      expect(requests(sim)).toMatchObject({
        contractDetails: before.contractDetails,
        headTimestamp: before.headTimestamp
      })
    }).pipe(Effect.scoped))

  it.live("contracts expire after 30 days, head timestamps after 24 hours", () =>
    Effect.gen(function*() {
      const { sim, catalog, at, pinned } = yield* setup()
      const aapl = yield* at(catalog.resolve("AAPL"))
      yield* at(catalog.headTimestamp(aapl, "1h"))
      expect(requests(sim)).toMatchObject({ contractDetails: 1, headTimestamp: 1 })
      pinned.advance(23 * 3_600_000)
      yield* at(catalog.headTimestamp(aapl, "1h"))
      yield* at(catalog.headTimestamp(aapl, "5m")) // any timeframe: IB's answer does not depend on bar size
      expect(requests(sim).headTimestamp).toBe(1)
      pinned.advance(2 * 3_600_000)
      yield* at(catalog.headTimestamp(aapl, "1h"))
      expect(requests(sim).headTimestamp).toBe(2)
      pinned.advance(28 * DAY)
      yield* at(catalog.resolve("AAPL"))
      expect(requests(sim).contractDetails).toBe(1)
      pinned.advance(2 * DAY)
      const renewed = yield* at(catalog.resolve("AAPL"))
      expect(requests(sim).contractDetails).toBe(2)
      expect(renewed.validatedAt).toBe(T0 + 25 * 3_600_000 + 30 * DAY)
    }).pipe(Effect.scoped))

  it.live("a bare futures root re-resolves once its front month has expired", () =>
    Effect.gen(function*() {
      const { sim, catalog, at, pinned } = yield* setup()
      expect((yield* at(catalog.resolve("ES"))).expiry).toBe("20260320")
      pinned.advance(10 * DAY)
      yield* at(catalog.resolve("ES"))
      expect(requests(sim).contractDetails).toBe(1)
      pinned.advance(10 * DAY) // 2026-03-22: March has expired (the simulator still lists it, frozen at T0)
      const rolled = yield* at(catalog.resolve("ES"))
      expect(requests(sim).contractDetails).toBe(2)
      expect(rolled.expiry).toBe("20260619")
    }).pipe(Effect.scoped))

  it.live("KTRDR's own cache file: its EURUSD entry resolves with no IB request, other entries survive a rewrite", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ clock: () => T0 })
      const dir = yield* tempDir
      const file = join(dir, "symbol_discovery_cache.json")
      yield* Effect.promise(() => copyFile(FIXTURE, file))
      const original = yield* readJson(file)
      const validatedAt = original.cache.EURUSD.validated_at as number
      const pinned = pinnedClock(Math.round(validatedAt * 1000) + 3_600_000)
      const { catalog, at } = yield* catalogOn(sim, dir, pinned.clock)
      for (const input of ["EUR.USD", "eur/usd", "EURUSD"]) {
        expect(yield* at(catalog.resolve(input))).toMatchObject({
          symbol: "EUR.USD",
          seriesKey: "EURUSD",
          secType: "CASH",
          exchange: "IDEALPRO",
          currency: "USD",
          description: "European Monetary Union Euro",
          calendarId: "forex",
          timeZone: "America/New_York",
          contract: { symbol: "EUR", secType: "CASH", exchange: "IDEALPRO", currency: "USD" }
        })
      }
      const eur = yield* at(catalog.resolve("EURUSD"))
      expect(eur.conId).toBeUndefined()
      expect(new Date(yield* at(catalog.headTimestamp(eur, "1h"))).toISOString()).toBe("2005-03-09T04:30:00.000Z")
      expect(requests(sim)).toMatchObject({ contractDetails: 0, headTimestamp: 0 })

      // A resolution that changes the file keeps every entry it did not touch, byte for byte.
      yield* at(catalog.resolve("AAPL"))
      const rewritten = yield* readJson(file)
      expect(Object.keys(rewritten.cache)).toEqual([...Object.keys(original.cache), "AAPL"])
      for (const [k, v] of Object.entries(original.cache)) expect(rewritten.cache[k]).toEqual(v)
      expect(rewritten.validated_symbols).toEqual([...original.validated_symbols, "AAPL"])
    }).pipe(Effect.scoped))

  it.live("an expired KTRDR entry is revalidated in place, keeping fields it does not know", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ clock: () => T0 })
      const dir = yield* tempDir
      const file = join(dir, "symbol_discovery_cache.json")
      const original = JSON.parse(yield* Effect.promise(() => readFile(FIXTURE, "utf8")))
      original.cache.EURUSD.note = "keep me"
      original.comment = "top-level field"
      yield* Effect.promise(() => writeFile(file, JSON.stringify(original)))
      const { catalog, at } = yield* catalogOn(sim, dir, pinnedClock(T0).clock)
      const eur = yield* at(catalog.resolve("EUR.USD"))
      expect(eur.conId).toBe(12087792)
      expect(requests(sim).contractDetails).toBe(1)
      const rewritten = yield* readJson(file)
      expect(rewritten.comment).toBe("top-level field")
      expect(rewritten.cache.EURUSD).toMatchObject({
        note: "keep me",
        validated_at: T0 / 1000,
        head_timestamp: "2005-03-09T04:30:00+00:00",
        ib_contract: { con_id: 12087792 }
      })
      expect(rewritten.cache.USDJPY).toEqual(original.cache.USDJPY)
    }).pipe(Effect.scoped))

  it.live(
    "a gateway that does not answer: an expired entry is served (with a warning), " +
      "an unknown symbol fails typed",
    () =>
      Effect.gen(function*() {
        const sim = yield* startSim({ clock: () => T0 })
        const dir = yield* tempDir
        const file = join(dir, "symbol_discovery_cache.json")
        yield* Effect.promise(() => copyFile(FIXTURE, file))
        const { catalog, at, logs } = yield* catalogOn(sim, dir, pinnedClock(T0).clock, {
          requestTimeout: Duration.millis(300)
        })
        yield* Effect.promise(() => sim.setFaults({ stall: true }))
        expect(yield* at(catalog.resolve("EUR.USD"))).toMatchObject({
          seriesKey: "EURUSD",
          secType: "CASH",
          validatedAt: Math.round(1750726142.397093 * 1000)
        })
        expect(logs.join("\n")).toMatch(/expired cache entry for EURUSD/)
        expect(yield* at(catalog.resolve("AAPL")).pipe(Effect.flip)).toMatchObject({
          _tag: "IbError",
          category: "timeout",
          retryable: true
        })
        expect(yield* Effect.promise(() => readFile(file, "utf8"))).toBe(
          yield* Effect.promise(() => readFile(FIXTURE, "utf8"))
        )
      }).pipe(Effect.scoped)
  )

  it.live("a corrupt cache file is kept aside, logged, and replaced by a fresh cache", () =>
    Effect.gen(function*() {
      for (const junk of ["{not json", "[1,2,3]", JSON.stringify({ cache: [] })]) {
        const sim = yield* startSim({ clock: () => T0 })
        const dir = yield* tempDir
        const file = join(dir, "symbol_discovery_cache.json")
        yield* Effect.promise(() => writeFile(file, junk))
        const { catalog, at, logs } = yield* catalogOn(sim, dir, pinnedClock(T0).clock)
        expect(logs.join("\n")).toMatch(/corrupt/)
        expect((yield* at(catalog.resolve("AAPL"))).conId).toBe(265598)
        const names = yield* Effect.promise(() => readdir(dir))
        const aside = names.find((n) => n.startsWith("symbol_discovery_cache.json.corrupt-"))
        expect(aside).toBeDefined()
        expect(yield* Effect.promise(() => readFile(join(dir, aside!), "utf8"))).toBe(junk)
        expect(Object.keys((yield* readJson(file)).cache)).toEqual(["AAPL"])
      }
    }).pipe(Effect.scoped))

  it.live("an unreadable cache path is left alone and resolution still works", () =>
    Effect.gen(function*() {
      const sim = yield* startSim({ clock: () => T0 })
      const dir = yield* tempDir
      yield* Effect.promise(() => mkdir(join(dir, "symbol_discovery_cache.json")))
      const { catalog, at, logs } = yield* catalogOn(sim, dir, pinnedClock(T0).clock)
      expect((yield* at(catalog.resolve("MSFT"))).conId).toBe(272093)
      expect(logs.join("\n")).toMatch(/unreadable/)
      expect(yield* Effect.promise(() => readdir(join(dir, "symbol_discovery_cache.json")))).toEqual([])
    }).pipe(Effect.scoped))

  it.live("concurrent resolutions all land in the file", () =>
    Effect.gen(function*() {
      const { catalog, at } = yield* setup()
      const symbols = [
        "AAPL",
        "MSFT",
        "IBM",
        "SPY",
        "QQQ",
        "TSLA",
        "AMZN",
        "NVDA",
        "GOOGL",
        "EUR.USD",
        "GBP/USD",
        "VIX"
      ]
      yield* Effect.forEach(symbols, (s) => at(catalog.resolve(s)), { concurrency: "unbounded" })
      const file = yield* readJson(catalog.file)
      expect(Object.keys(file.cache).sort()).toEqual([
        "AAPL",
        "AMZN",
        "EURUSD",
        "GBPUSD",
        "GOOGL",
        "IBM",
        "MSFT",
        "NVDA",
        "QQQ",
        "SPY",
        "TSLA",
        "VIX"
      ])
      expect(new Set(file.validated_symbols).size).toBe(12)
    }).pipe(Effect.scoped))
})
