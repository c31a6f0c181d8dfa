import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import {
  calendarIdFor,
  editDistance,
  ianaZone,
  instrumentFrom,
  MAX_SYMBOL_LENGTH,
  normalizeSymbol,
  pickContract,
  seriesKeyOf,
  suggestSymbols,
  validateSymbol,
  type ContractFacts
} from "../../src/domain/Instrument.ts"

const ok = (input: string, referenceYear = 2026) => {
  const r = normalizeSymbol(input, { referenceYear })
  if (Either.isLeft(r)) throw new Error(`${input}: ${r.left.message}`)
  return r.right
}
const kinds = (input: string) => ok(input).candidates.map((c) => c.secType)

describe("symbol normalisation", () => {
  it.each(
    [
      // input, display symbol, series key, kinds in lookup order
      ["eur/usd", "EUR.USD", "EURUSD", ["CASH"]],
      ["EUR/USD", "EUR.USD", "EURUSD", ["CASH"]],
      ["eur.usd", "EUR.USD", "EURUSD", ["CASH"]],
      ["EURUSD", "EUR.USD", "EURUSD", ["CASH", "STK"]],
      ["usdjpy", "USD.JPY", "USDJPY", ["CASH", "STK"]],
      ["  AAPL ", "AAPL", "AAPL", ["STK", "IND", "FUT"]],
      ["aapl", "AAPL", "AAPL", ["STK", "IND", "FUT"]],
      ["BRK.B", "BRK.B", "BRK.B", ["STK"]],
      ["ABC.DEF", "ABC.DEF", "ABC.DEF", ["STK"]],
      ["ES", "ES", "ES", ["FUT", "STK"]],
      ["nq", "NQ", "NQ", ["FUT", "STK"]],
      ["ESZ6", "ESZ2026", "ESZ2026", ["FUT", "STK"]],
      ["ESZ26", "ESZ2026", "ESZ2026", ["FUT", "STK"]],
      ["esz2026", "ESZ2026", "ESZ2026", ["FUT", "STK"]],
      ["6EH27", "6EH2027", "6EH2027", ["FUT", "STK"]],
      ["SPX", "SPX", "SPX", ["IND", "STK"]],
      ["^spx", "SPX", "SPX", ["IND"]],
      ["^N225", "N225", "N225", ["IND"]],
      ["V", "V", "V", ["STK", "IND", "FUT"]]
    ] as const
  )("%j → %s (%s)", (input, symbol, seriesKey, order) => {
    const p = ok(input)
    expect(p.symbol).toBe(symbol)
    expect(p.seriesKey).toBe(seriesKey)
    expect(p.candidates.map((c) => c.secType)).toEqual(order)
  })

  it("builds the contract spec for each kind", () => {
    expect(ok("eur/usd").candidates[0]!.spec).toEqual({
      symbol: "EUR",
      secType: "CASH",
      exchange: "IDEALPRO",
      currency: "USD"
    })
    expect(ok("AAPL").candidates.map((c) => c.spec)).toEqual([
      { symbol: "AAPL", secType: "STK", exchange: "SMART", currency: "USD" },
      { symbol: "AAPL", secType: "IND", exchange: "", currency: "USD" },
      { symbol: "AAPL", secType: "FUT", exchange: "CME", currency: "USD" }
    ])
    expect(ok("BRK.B").candidates[0]!.spec).toMatchObject({ symbol: "BRK B", secType: "STK" })
    expect(ok("ESZ6").candidates[0]!.spec).toEqual({
      symbol: "ES",
      secType: "FUT",
      exchange: "CME",
      currency: "USD",
      lastTradeDateOrContractMonth: "202612",
      includeExpired: true
    })
    expect(ok("YM").candidates[0]!.spec).toMatchObject({ exchange: "CBOT" })
    expect(ok("NDX").candidates[0]!.spec).toEqual({
      symbol: "NDX",
      secType: "IND",
      exchange: "NASDAQ",
      currency: "USD"
    })
    expect(ok("SPX").candidates[0]!.spec).toMatchObject({ exchange: "CBOE" })
  })

  it("places one-digit futures years around the reference year, and refuses without one", () => {
    expect(ok("ESH5", 2026).symbol).toBe("ESH2025")
    expect(ok("ESH4", 2026).symbol).toBe("ESH2024")
    expect(ok("ESH3", 2026).symbol).toBe("ESH2033")
    const r = normalizeSymbol("ESZ6")
    expect(Either.isLeft(r) && r.left.message).toMatch(/full year/)
  })

  it("restricts the lookup to an asked security type", () => {
    const es = normalizeSymbol("ES", { secType: "STK" })
    expect(Either.getOrThrow(es).candidates.map((c) => c.secType)).toEqual(["STK"])
    expect(Either.isLeft(normalizeSymbol("EUR.USD", { secType: "STK" }))).toBe(true)
  })

  it("series keys are KTRDR's (forex without the dot)", () => {
    expect(Either.getOrThrow(seriesKeyOf("EUR.USD"))).toBe("EURUSD")
    expect(Either.getOrThrow(seriesKeyOf("eurusd"))).toBe("EURUSD")
    expect(Either.getOrThrow(seriesKeyOf("msft"))).toBe("MSFT")
    expect(kinds("GBPJPY")).toEqual(["CASH", "STK"])
  })
})

describe("symbol validation", () => {
  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["../x", /path separator/],
    ["..", /path/],
    [".hidden", /path/],
    ["a/b", /path separator/],
    ["EUR/XYZ", /path separator/],
    ["/etc/passwd", /path separator/],
    ["a\\b", /path separator/],
    ["C:\\x", /path separator/],
    ["A".repeat(MAX_SYMBOL_LENGTH + 1), /longer than 32/],
    ["AA\u0000PL", /control/],
    ["AAPL\n", /control/],
    ["AA\tPL", /control/],
    ["AA PL", /whitespace/],
    ["AAPL\u00a0", /whitespace/],
    ["A_B", /only letters/],
    ["A..B", /path/],
    ["AAPL.", /only letters/],
    ["-AAPL", /only letters/],
    ["A^B", /only letters/],
    ["^", /only letters/],
    ["*", /only letters/],
    ["ÄPPLE", /only letters/],
    ["AAPL%2F", /only letters/]
  ])("%j is rejected", (input, why) => {
    const r = normalizeSymbol(input)
    expect(Either.isLeft(r)).toBe(true)
    if (Either.isLeft(r)) {
      expect(r.left._tag).toBe("InvalidInput")
      expect(r.left.field).toBe("symbol")
      expect(r.left.value).toBe(input)
      expect(r.left.message).toMatch(why)
    }
  })

  it("accepts 32 characters, rejects 33", () => {
    expect(Either.isRight(validateSymbol("A".repeat(32)))).toBe(true)
    expect(Either.isLeft(validateSymbol("A".repeat(33)))).toBe(true)
  })

  it("every accepted symbol gives a series key that is a plain file-name component", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const r = seriesKeyOf(s, { referenceYear: 2026 })
        if (Either.isRight(r)) {
          expect(r.right).toMatch(/^[A-Z0-9][A-Z0-9.-]*$/)
          expect(r.right).not.toContain("..")
          expect(r.right.length).toBeLessThanOrEqual(MAX_SYMBOL_LENGTH)
        }
      }),
      { numRuns: 2000 }
    )
  })
})

describe("suggestions", () => {
  it.each([
    ["EURUSX", "EUR.USD"],
    ["APPL", "AAPL"],
    ["MSFY", "MSFT"],
    ["GOOGLE", "GOOGL"],
    ["USDEUR", "EUR.USD"],
    ["VIXX", "VIX"]
  ])("%s → did you mean %s", (input, expected) => {
    expect(suggestSymbols(input)[0]).toBe(expected)
  })

  it("draws on extra (cached) symbols and stays empty for far-off input", () => {
    expect(suggestSymbols("ZZZZZZZZZZ")).toEqual([])
    expect(suggestSymbols("NZDCAX", ["NZD.CAD"])).toContain("NZD.CAD")
    expect(suggestSymbols("AAPL")).not.toContain("AAPL")
    expect(suggestSymbols("APPL").length).toBeLessThanOrEqual(3)
    expect(suggestSymbols("SPZ")).toEqual(expect.arrayContaining(["SPX", "SPY"]))
  })

  it("edit distance counts a transposition once", () => {
    expect(editDistance("APPL", "AAPL")).toBe(1)
    expect(editDistance("MSTF", "MSFT")).toBe(1)
    expect(editDistance("", "ABC")).toBe(3)
    expect(editDistance("KITTEN", "SITTING")).toBe(3)
  })
})

describe("contracts → instruments", () => {
  const facts = (over: Partial<ContractFacts>): ContractFacts => ({
    conId: 1,
    symbol: "X",
    secType: "STK",
    exchange: "SMART",
    primaryExch: "",
    currency: "USD",
    localSymbol: "X",
    longName: "",
    timeZoneId: "US/Eastern",
    tradingHours: "",
    liquidHours: "",
    lastTradeDate: "",
    contractMonth: "",
    multiplier: "",
    ...over
  })

  it("calendars by security type", () => {
    expect(calendarIdFor("STK", "NASDAQ")).toBe("us-equity")
    expect(calendarIdFor("CASH", "IDEALPRO")).toBe("forex")
    expect(calendarIdFor("FUT", "CME")).toBe("cme-equity-futures")
    expect(calendarIdFor("FUT", "NYMEX")).toBe("cme-equity-futures")
    expect(calendarIdFor("IND", "CBOE")).toBe("us-index")
  })

  it("IB zone ids become IANA zones", () => {
    expect(ianaZone("US/Eastern")).toBe("America/New_York")
    expect(ianaZone("US/Central")).toBe("America/Chicago")
    expect(ianaZone("EST")).toBe("America/New_York")
    expect(ianaZone("GMT")).toBe("UTC")
    expect(ianaZone("")).toBeUndefined()
    expect(ianaZone("Nowhere/Special")).toBeUndefined()
  })

  it("futures: the nearest expiry not yet past", () => {
    const now = Date.UTC(2026, 2, 25)
    const answers = [
      facts({ secType: "FUT", lastTradeDate: "20260918" }),
      facts({ secType: "FUT", lastTradeDate: "20260320" }),
      facts({ secType: "FUT", lastTradeDate: "20260619" })
    ]
    expect(pickContract("FUT", answers, now)?.lastTradeDate).toBe("20260619")
    expect(pickContract("STK", answers, now)).toBeUndefined()
  })

  it("instrument fields: routing exchange, primary exchange, zone, contract by conId", () => {
    const p = ok("aapl")
    const i = instrumentFrom(
      p,
      p.candidates[0]!,
      facts({ conId: 265598, symbol: "AAPL", primaryExch: "NASDAQ", longName: "APPLE INC" }),
      1000
    )
    expect(i).toMatchObject({
      symbol: "AAPL",
      seriesKey: "AAPL",
      secType: "STK",
      conId: 265598,
      exchange: "SMART",
      primaryExchange: "NASDAQ",
      description: "APPLE INC",
      timeZone: "America/New_York",
      calendarId: "us-equity",
      contract: { conId: 265598, exchange: "SMART" },
      validatedAt: 1000
    })
    const spx = ok("^SPX")
    expect(instrumentFrom(spx, spx.candidates[0]!, facts({ secType: "IND", exchange: "CBOE" }), 0).exchange).toBe(
      "CBOE"
    )
  })
})
