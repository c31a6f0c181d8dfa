/**
 * Instruments: strict symbol validation (a symbol becomes part of a file name, so nothing
 * path-like gets past here), normalisation, KTRDR's series keys and the IB contract specs a
 * symbol is looked up as. Pure; SymbolCatalog does the lookups and the caching.
 *
 * Rules (first match wins; input is upper-cased after validation):
 * 1. `^X`                → index X only (IND).
 * 2. `AAA/BBB`, `AAA.BBB` with both halves ISO currencies → forex `AAA.BBB` only (CASH IDEALPRO).
 *    `AAABBB` (six letters, both halves currencies)       → forex first, then a stock of that name.
 * 3. `<root><month code><year>` (`ESZ6`, `ESZ26`, `ESZ2026`) → that future (FUT), then a stock;
 *    canonical `ESZ2026`; a one-digit year is placed in [reference year − 2, reference year + 7].
 * 4. Known indices (SPX, NDX, VIX, RUT, …) → IND on their exchange, then a stock.
 * 5. Known futures roots (ES, NQ, CL, …)  → the front-month future, then a stock.
 * 6. A symbol with a dot (`BRK.B`)        → a stock only (sent to IB as `BRK B`, IB's class form).
 * 7. Anything else                         → stock (SMART/USD), then index, then future (CME).
 * Series key (file names, cache keys, KTRDR's): forex `EURUSD`; others the canonical symbol.
 */
import { Either, Schema } from "effect"
import { calendarFor, type CalendarId } from "./calendar/index.ts"
import { InvalidInput } from "./dataErrors.ts"
import { CURRENCIES, FUTURE_ROOTS, KNOWN_INDICES } from "./knownSymbols.ts"

export { editDistance, KNOWN_SYMBOLS, suggestSymbols } from "./knownSymbols.ts"

export type AssetClass = "STK" | "CASH" | "FUT" | "IND"

/** What IB is asked for (IbClient's ContractSpec extends it with continuous futures). */
export interface IbContractSpec {
  readonly conId?: number
  readonly symbol?: string
  readonly secType?: AssetClass
  readonly exchange?: string
  readonly primaryExch?: string
  readonly currency?: string
  readonly localSymbol?: string
  readonly lastTradeDateOrContractMonth?: string
  readonly includeExpired?: boolean
}

export interface Candidate {
  readonly secType: AssetClass
  readonly spec: IbContractSpec
}

export interface ParsedSymbol {
  /** The canonical display form: `EUR.USD`, `AAPL`, `ESZ2026`, `SPX`. */
  readonly symbol: string
  /** File-name and cache key: `EURUSD`, `AAPL`, `ESZ2026`, `SPX`. */
  readonly seriesKey: string
  /** Contract lookups to try, in order; the first IB knows wins. */
  readonly candidates: ReadonlyArray<Candidate>
}

/** The contract-details fields an Instrument is built from (IbClient's ContractInfo has them all). */
export interface ContractFacts {
  readonly conId: number
  readonly symbol: string
  readonly secType: string
  readonly exchange: string
  readonly primaryExch: string
  readonly currency: string
  readonly localSymbol: string
  readonly longName: string
  readonly timeZoneId: string
  readonly tradingHours: string
  readonly liquidHours: string
  readonly lastTradeDate: string
  readonly contractMonth: string
  readonly multiplier: string
}

export interface Instrument {
  readonly symbol: string
  readonly seriesKey: string
  readonly secType: AssetClass
  /** Absent for entries read from a KTRDR cache, which never stored it. */
  readonly conId?: number
  /** IB's own symbol (`EUR` for EUR.USD, `BRK B` for BRK.B). */
  readonly ibSymbol: string
  readonly localSymbol: string
  /** Routing exchange sent with requests: SMART, IDEALPRO, CME, CBOE… */
  readonly exchange: string
  /** KTRDR's `exchange`: the primary listing when IB names one. */
  readonly primaryExchange: string
  readonly currency: string
  readonly description: string
  /** IANA zone of the exchange clock. */
  readonly timeZone: string
  readonly calendarId: CalendarId
  /** IB's `tradingHours` / `liquidHours` strings at validation time; "" when unknown. */
  readonly tradingHours: string
  readonly liquidHours: string
  /** Futures: last trade date `yyyyMMdd`. */
  readonly expiry?: string
  readonly multiplier?: string
  /** What to send IB for bars and head timestamps. */
  readonly contract: IbContractSpec
  /** Epoch ms of the contract lookup this came from. */
  readonly validatedAt: number
}

/** No contract matched any lookup: IB's code (200) and request id travel with the suggestions. */
export class UnknownSymbol extends Schema.TaggedError<UnknownSymbol>()("UnknownSymbol", {
  symbol: Schema.String,
  code: Schema.Number,
  reqId: Schema.Number,
  tried: Schema.Array(Schema.String),
  suggestions: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export const MAX_SYMBOL_LENGTH = 32

const invalid = (value: string, message: string) => Either.left(new InvalidInput({ field: "symbol", value, message }))

const SHAPE = /^\^?[A-Za-z0-9]+(?:[.-][A-Za-z0-9]+)*$/
const SLASH_PAIR = /^([A-Za-z]{3})\/([A-Za-z]{3})$/

const isPair = (b: string, q: string) => b !== q && CURRENCIES.has(b) && CURRENCIES.has(q)

/**
 * Rejects anything that could escape or confuse a file name before it is used: empty, over 32
 * characters, control characters, whitespace, path separators (a `/` only between two currency
 * codes), `..`, `_` (KTRDR's listing splits file names on it), and any other punctuation. Only
 * outer spaces are trimmed, as KTRDR did.
 */
export const validateSymbol = (raw: string): Either.Either<string, InvalidInput> => {
  const s = raw.replace(/^ +| +$/g, "")
  if (s.length === 0) return invalid(raw, "symbol is empty")
  if (s.length > MAX_SYMBOL_LENGTH) return invalid(raw, `symbol is longer than ${MAX_SYMBOL_LENGTH} characters`)
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) return invalid(raw, "symbol contains control characters")
  if (/\s/.test(s)) return invalid(raw, "symbol contains whitespace")
  const slash = SLASH_PAIR.exec(s)
  if (slash && isPair(slash[1]!.toUpperCase(), slash[2]!.toUpperCase())) return Either.right(s)
  if (/[/\\]/.test(s)) {
    return invalid(
      raw,
      "symbol contains a path separator ('/' is only accepted between two currency codes, e.g. EUR/USD)"
    )
  }
  if (s.includes("..") || s.startsWith(".")) return invalid(raw, "symbol looks like a path")
  if (!SHAPE.test(s)) {
    return invalid(
      raw,
      "symbol may contain only letters, digits and single inner '.' or '-' (optionally a leading '^' for an index)"
    )
  }
  return Either.right(s)
}

const stock = (s: string): Candidate => ({
  secType: "STK",
  spec: { symbol: s.replace(".", " "), secType: "STK", exchange: "SMART", currency: "USD" }
})
const index = (s: string, exchange = KNOWN_INDICES[s] ?? ""): Candidate => ({
  secType: "IND",
  spec: { symbol: s, secType: "IND", exchange, currency: "USD" }
})
const future = (root: string, month?: string): Candidate => ({
  secType: "FUT",
  spec: {
    symbol: root,
    secType: "FUT",
    exchange: FUTURE_ROOTS[root] ?? "CME",
    currency: "USD",
    // An explicit expiry may be a past contract; a bare root means the listed front month.
    ...(month === undefined ? {} : { lastTradeDateOrContractMonth: month, includeExpired: true })
  }
})

const MONTH_CODES = "FGHJKMNQUVXZ"
const EXPIRY = /^([A-Z0-9]{1,4}?)([FGHJKMNQUVXZ])(\d{1,2}|\d{4})$/

export interface NormalizeOptions {
  /** Places one-digit futures years; without it `ESZ6` is rejected in favour of `ESZ2026`. */
  readonly referenceYear?: number
  /** Only look the symbol up as this kind (e.g. `ES` the stock rather than the future). */
  readonly secType?: AssetClass
}

const parsed = (
  symbol: string,
  seriesKey: string,
  candidates: ReadonlyArray<Candidate>,
  only?: AssetClass
): Either.Either<ParsedSymbol, InvalidInput> => {
  const kept = only === undefined ? candidates : candidates.filter((c) => c.secType === only)
  return kept.length === 0
    ? invalid(symbol, `${symbol} cannot be a ${only} symbol`)
    : Either.right({ symbol, seriesKey, candidates: kept })
}

/** Validates, then applies the rules in the header comment. */
export const normalizeSymbol = (
  raw: string,
  options: NormalizeOptions = {}
): Either.Either<ParsedSymbol, InvalidInput> =>
  Either.flatMap(validateSymbol(raw), (valid) => {
    const s = valid.toUpperCase()
    const only = options.secType
    if (s.startsWith("^")) return parsed(s.slice(1), s.slice(1), [index(s.slice(1))], only)
    const sep = /^([A-Z]{3})[./]([A-Z]{3})$/.exec(s)
    if (sep && isPair(sep[1]!, sep[2]!)) {
      return parsed(`${sep[1]}.${sep[2]}`, `${sep[1]}${sep[2]}`, [forex(sep[1]!, sep[2]!)], only)
    }
    if (/^[A-Z]{6}$/.test(s) && isPair(s.slice(0, 3), s.slice(3))) {
      return parsed(`${s.slice(0, 3)}.${s.slice(3)}`, s, [forex(s.slice(0, 3), s.slice(3)), stock(s)], only)
    }
    const exp = EXPIRY.exec(s)
    if (exp) {
      const [, root, code, y] = exp as unknown as [string, string, string, string]
      const year = y.length === 4
        ? Number(y)
        : y.length === 2
        ? 2000 + Number(y)
        : placeYear(Number(y), options.referenceYear)
      if (year === undefined) {
        return invalid(
          raw,
          `${s}: a one-digit futures year is ambiguous without a reference date; ` +
            `write the full year, e.g. ${root}${code}202${y}`
        )
      }
      const month = String(MONTH_CODES.indexOf(code) + 1).padStart(2, "0")
      const canonical = `${root}${code}${year}`
      return parsed(canonical, canonical, [future(root, `${year}${month}`), stock(s)], only)
    }
    if (KNOWN_INDICES[s] !== undefined) return parsed(s, s, [index(s), stock(s)], only)
    if (FUTURE_ROOTS[s] !== undefined) return parsed(s, s, [future(s), stock(s)], only)
    if (s.includes(".")) return parsed(s, s, [stock(s)], only)
    return parsed(s, s, [stock(s), index(s), future(s)], only)
  })

const forex = (base: string, quote: string): Candidate => ({
  secType: "CASH",
  spec: { symbol: base, secType: "CASH", exchange: "IDEALPRO", currency: quote }
})

/** The one year ending in `digit` within [ref − 2, ref + 7]: recent expiries and every listed one. */
const placeYear = (digit: number, ref: number | undefined): number | undefined =>
  ref === undefined ? undefined : ref - 2 + ((((digit - (ref - 2)) % 10) + 10) % 10)

/** The series key of a symbol (`eur/usd` → `EURUSD`), or why it is invalid. */
export const seriesKeyOf = (raw: string, options: NormalizeOptions = {}): Either.Either<string, InvalidInput> =>
  Either.map(normalizeSymbol(raw, options), (p) => p.seriesKey)

/**
 * The trading calendar for a contract. Only US calendars exist, so the security type decides:
 * every futures exchange (CME, CBOT, NYMEX, COMEX) gets the CME Globex calendar, whose daily
 * 17:00–16:00 CT session they share.
 */
export const calendarIdFor = (secType: string, _exchange = ""): CalendarId =>
  secType === "CASH"
    ? "forex"
    : secType === "FUT" || secType === "CONTFUT"
    ? "cme-equity-futures"
    : secType === "IND"
    ? "us-index"
    : "us-equity"

// IB's legacy abbreviations mean the US regions (with DST); Intl would read EST as a fixed offset.
const IB_ZONE_ALIASES: Readonly<Record<string, string>> = {
  EST: "America/New_York",
  EST5EDT: "America/New_York",
  CST: "America/Chicago",
  CST6CDT: "America/Chicago",
  MST: "America/Denver",
  PST: "America/Los_Angeles",
  GMT: "UTC"
}

/** IB's `timeZoneId` (`US/Eastern`, `EST`, `GMT`…) as a canonical IANA zone, or undefined. */
export const ianaZone = (ibZone: string): string | undefined => {
  const z = IB_ZONE_ALIASES[ibZone.trim()] ?? ibZone.trim()
  if (z === "") return undefined
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: z }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

const ymdUtc = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "")

/**
 * The contract to use among IB's answers: for futures the nearest expiry not yet past (IB lists
 * several; KTRDR took whichever came first), otherwise the first of the asked security type.
 */
export const pickContract = <F extends ContractFacts>(
  secType: AssetClass,
  answers: ReadonlyArray<F>,
  nowMs: number
): F | undefined => {
  const same = answers.filter((a) => a.secType === secType)
  if (secType !== "FUT") return same[0]
  const today = ymdUtc(nowMs)
  const byExpiry = [...same].sort((a, b) => a.lastTradeDate.localeCompare(b.lastTradeDate))
  return byExpiry.find((a) => a.lastTradeDate >= today) ?? byExpiry[byExpiry.length - 1]
}

/** The instrument for the contract IB returned for one of the parsed symbol's candidates. */
export const instrumentFrom = (p: ParsedSymbol, c: Candidate, f: ContractFacts, validatedAt: number): Instrument => {
  const calendarId = calendarIdFor(c.secType, f.exchange)
  const exchange = c.spec.exchange !== undefined && c.spec.exchange !== "" ? c.spec.exchange : f.exchange
  return {
    symbol: p.symbol,
    seriesKey: p.seriesKey,
    secType: c.secType,
    ...(f.conId > 0 ? { conId: f.conId } : {}),
    ibSymbol: f.symbol,
    localSymbol: f.localSymbol,
    exchange,
    primaryExchange: f.primaryExch !== "" ? f.primaryExch : f.exchange,
    currency: f.currency,
    description: f.longName !== "" ? f.longName : f.contractMonth,
    timeZone: ianaZone(f.timeZoneId) ?? calendarFor(calendarId).timeZone,
    calendarId,
    tradingHours: f.tradingHours,
    liquidHours: f.liquidHours,
    ...(c.secType === "FUT" && f.lastTradeDate !== "" ? { expiry: f.lastTradeDate } : {}),
    ...(f.multiplier !== "" ? { multiplier: f.multiplier } : {}),
    contract: f.conId > 0 ? { conId: f.conId, exchange } : c.spec,
    validatedAt
  }
}
