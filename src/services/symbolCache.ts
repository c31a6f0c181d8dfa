/**
 * `<dataDir>/symbol_discovery_cache.json` in KTRDR's schema (ktrdr-ib-layer.md §4.5):
 * `{cache: {KEY: {symbol, asset_type, exchange, currency, description, validated_at (epoch s),
 * trading_hours, head_timestamp, head_timestamp_timeframes, head_timestamp_fetched_at}},
 * validated_symbols, last_updated}`. KTRDR reads entries field by field, so what it never stored
 * (conId, routing exchange, IB's hours strings) lives under an extra `ib_contract` key it ignores.
 * Fields and entries we do not understand are written back untouched.
 */
import { calendarFor, type CalendarId } from "../domain/calendar/index.ts"
import { calendarIdFor, ianaZone, type AssetClass, type Instrument } from "../domain/Instrument.ts"
import { CURRENCIES } from "../domain/knownSymbols.ts"

export { type CacheState, decodeCache, emptyCache, encodeCache } from "../domain/symbolCacheCodec.ts"

export const CONTRACT_TTL_MS = 30 * 86_400_000
export const HEAD_TTL_MS = 86_400_000

type Json = Record<string, unknown>

const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x)
const str = (x: unknown): string | undefined => (typeof x === "string" ? x : undefined)
const num = (x: unknown): number | undefined => (typeof x === "number" && Number.isFinite(x) ? x : undefined)

/** KTRDR's TradingHours.to_dict shape, from our calendars (KTRDR wrote 09:30–16:00 for everything). */
const TRADING_HOURS: Readonly<Record<CalendarId, Json>> = {
  "us-equity": {
    timezone: "America/New_York",
    regular_hours: { start: "09:30", end: "16:00", name: "Regular" },
    extended_hours: [{ start: "04:00", end: "09:30", name: "Pre-Market" }, {
      start: "16:00",
      end: "20:00",
      name: "After-Hours"
    }],
    trading_days: [0, 1, 2, 3, 4],
    holidays: []
  },
  "us-index": {
    timezone: "America/New_York",
    regular_hours: { start: "09:30", end: "16:00", name: "Regular" },
    extended_hours: [],
    trading_days: [0, 1, 2, 3, 4],
    holidays: []
  },
  "cme-equity-futures": {
    timezone: "America/Chicago",
    regular_hours: { start: "08:30", end: "15:00", name: "Regular" },
    extended_hours: [{ start: "17:00", end: "08:30", name: "Electronic" }, {
      start: "15:00",
      end: "16:00",
      name: "Electronic"
    }],
    trading_days: [0, 1, 2, 3, 4, 6],
    holidays: []
  },
  // KTRDR's own IDEALPRO row: its gap classifier recognises 24/5 markets by this shape.
  forex: {
    timezone: "UTC",
    regular_hours: { start: "22:00", end: "21:59", name: "24H" },
    extended_hours: [],
    trading_days: [0, 1, 2, 3, 4, 6],
    holidays: []
  }
}

const KNOWN_KEYS = new Set([
  "symbol",
  "asset_type",
  "exchange",
  "currency",
  "description",
  "validated_at",
  "trading_hours",
  "head_timestamp",
  "head_timestamp_timeframes",
  "head_timestamp_fetched_at",
  "ib_contract"
])

const ASSET: ReadonlySet<string> = new Set(["STK", "CASH", "FUT", "IND"])

/** KTRDR entries carry only what is needed to rebuild a spec by symbol; futures need their expiry. */
const fromKtrdrFields = (
  key: string,
  e: Json,
  secType: AssetClass
): Pick<Instrument, "symbol" | "ibSymbol" | "exchange" | "contract"> | undefined => {
  const currency = str(e.currency) ?? "USD"
  const exchange = str(e.exchange) ?? ""
  switch (secType) {
    case "CASH": {
      const [b, q] = [key.slice(0, 3), key.slice(3)]
      if (!/^[A-Z]{6}$/.test(key) || !CURRENCIES.has(b) || !CURRENCIES.has(q)) return undefined
      return {
        symbol: `${b}.${q}`,
        ibSymbol: b,
        exchange: "IDEALPRO",
        contract: { symbol: b, secType, exchange: "IDEALPRO", currency: q }
      }
    }
    case "STK": {
      const ibSymbol = key.replace(".", " ")
      const primary = exchange !== "" && exchange !== "SMART" ? { primaryExch: exchange } : {}
      return {
        symbol: key,
        ibSymbol,
        exchange: "SMART",
        contract: { symbol: ibSymbol, secType, exchange: "SMART", currency, ...primary }
      }
    }
    case "IND":
      return { symbol: key, ibSymbol: key, exchange, contract: { symbol: key, secType, exchange, currency } }
    case "FUT":
      return undefined
  }
}

/** The instrument an entry describes, or undefined when it cannot be used (it then stays in the file). */
export const entryInstrument = (key: string, raw: unknown): Instrument | undefined => {
  if (!isObj(raw)) return undefined
  const secType = str(raw.asset_type)
  const validatedAt = num(raw.validated_at)
  if (secType === undefined || !ASSET.has(secType) || validatedAt === undefined) return undefined
  const asset = secType as AssetClass
  const calendarId = calendarIdFor(asset, str(raw.exchange) ?? "")
  const ib = isObj(raw.ib_contract) ? raw.ib_contract : undefined
  const conId = num(ib?.con_id)
  const hoursZone = isObj(raw.trading_hours) ? str(raw.trading_hours.timezone) : undefined
  const ktrdr = fromKtrdrFields(key, raw, asset)
  const exchange = str(ib?.exchange) ?? ktrdr?.exchange
  if (exchange === undefined || (conId === undefined && ktrdr === undefined)) return undefined
  const expiry = str(ib?.expiry)
  const multiplier = str(ib?.multiplier)
  return {
    symbol: ktrdr?.symbol ?? key,
    seriesKey: key,
    secType: asset,
    ...(conId !== undefined && conId > 0 ? { conId } : {}),
    ibSymbol: str(ib?.symbol) ?? ktrdr?.ibSymbol ?? key,
    localSymbol: str(ib?.local_symbol) ?? "",
    exchange,
    primaryExchange: str(raw.exchange) ?? exchange,
    currency: str(raw.currency) ?? "USD",
    description: str(raw.description) ?? "",
    timeZone: ianaZone(str(ib?.time_zone) ?? hoursZone ?? "") ?? calendarFor(calendarId).timeZone,
    calendarId,
    tradingHours: str(ib?.trading_hours) ?? "",
    liquidHours: str(ib?.liquid_hours) ?? "",
    ...(expiry !== undefined ? { expiry } : {}),
    ...(multiplier !== undefined ? { multiplier } : {}),
    contract: conId !== undefined && conId > 0 ? { conId, exchange } : ktrdr!.contract,
    validatedAt: Math.round(validatedAt * 1000)
  }
}

const ymdUtc = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "")

/**
 * Within the 30-day TTL, and — for a bare futures root, which means the front month — its
 * contract not yet expired, so `ES` rolls to the next quarterly.
 */
export const isFresh = (i: Instrument, nowMs: number): boolean =>
  nowMs - i.validatedAt < CONTRACT_TTL_MS &&
  !(i.secType === "FUT" && i.symbol === i.ibSymbol && i.expiry !== undefined && i.expiry < ymdUtc(nowMs))

const omitKnown = (e: Json): Json => Object.fromEntries(Object.entries(e).filter(([k]) => !KNOWN_KEYS.has(k)))

/** The entry for a freshly validated instrument, keeping the previous entry's unknown fields. */
export const instrumentEntry = (i: Instrument, previous: unknown): Json => {
  const prev = isObj(previous) ? previous : {}
  const prevIb = isObj(prev.ib_contract) ? prev.ib_contract : {}
  const prevConId = num(prevIb.con_id)
  // Head timestamps belong to a contract: a futures roll or a changed kind invalidates them.
  const same = prev.asset_type === i.secType && (prevConId === undefined || prevConId === i.conId)
  return {
    symbol: i.seriesKey,
    asset_type: i.secType,
    exchange: i.primaryExchange,
    currency: i.currency,
    description: i.description,
    validated_at: i.validatedAt / 1000,
    trading_hours: TRADING_HOURS[i.calendarId],
    head_timestamp: same ? prev.head_timestamp ?? null : null,
    head_timestamp_timeframes: same ? prev.head_timestamp_timeframes ?? null : null,
    head_timestamp_fetched_at: same ? prev.head_timestamp_fetched_at ?? null : null,
    ...omitKnown(prev),
    ib_contract: {
      ...prevIb,
      con_id: i.conId ?? 0,
      symbol: i.ibSymbol,
      exchange: i.exchange,
      local_symbol: i.localSymbol,
      time_zone: i.timeZone,
      trading_hours: i.tradingHours,
      liquid_hours: i.liquidHours,
      ...(i.expiry !== undefined ? { expiry: i.expiry } : {}),
      ...(i.multiplier !== undefined ? { multiplier: i.multiplier } : {})
    }
  }
}

/** Python's `isoformat()` of a UTC instant, as KTRDR stores head timestamps. */
export const isoUtc = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00")

/** A stored ISO instant; one without a zone is UTC (KTRDR's rule), never local time. */
export const parseIso = (s: string): number | undefined => {
  const t = Date.parse(/(?:Z|[+-]\d{2}:?\d{2})$/.test(s) ? s : `${s}Z`)
  return Number.isNaN(t) ? undefined : t
}

/** A cached head timestamp within its 24 h TTL: the timeframe's, else the contract's default. */
export const entryHead = (raw: unknown, timeframe: string, nowMs: number): number | undefined => {
  if (!isObj(raw)) return undefined
  const fetched = num(raw.head_timestamp_fetched_at)
  if (fetched === undefined || nowMs - fetched * 1000 >= HEAD_TTL_MS) return undefined
  const tfs = isObj(raw.head_timestamp_timeframes) ? raw.head_timestamp_timeframes : {}
  const iso = str(tfs[timeframe]) ?? str(tfs.default) ?? str(raw.head_timestamp)
  return iso === undefined ? undefined : parseIso(iso)
}

/**
 * The entry with a new head timestamp. IB's answer does not depend on bar size, so older
 * per-timeframe values are dropped rather than left to contradict the new one.
 */
export const withHead = (raw: unknown, timeframe: string, ms: number, nowMs: number): Json => {
  const iso = isoUtc(ms)
  return {
    ...(isObj(raw) ? raw : {}),
    head_timestamp: iso,
    head_timestamp_timeframes: { [timeframe]: iso, default: iso },
    head_timestamp_fetched_at: nowMs / 1000
  }
}
