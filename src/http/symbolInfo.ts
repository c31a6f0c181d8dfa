/**
 * What the read endpoints know about a stored symbol without asking IB: KTRDR's symbol cache
 * (`symbol_discovery_cache.json`) for its name, kind, exchange and currency, and our calendars for its
 * trading hours. The cache file is read here read-only — no copy-aside of a corrupt file, no rewrite:
 * that is SymbolCatalog's business when it resolves — and decoded again only when it changes.
 */
import { calendarIdFor, type AssetClass } from "../domain/Instrument.ts"
import type { CalendarId } from "../domain/calendar/index.ts"
import { tradingHoursOf } from "../domain/tradingHours.ts"
import type { StoredSeries } from "../layers/BarStore.ts"
import type { SymbolInfo } from "../contract/api/data.ts"

type Json = Record<string, unknown>
const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x)
const str = (x: unknown): string | undefined => (typeof x === "string" && x !== "" ? x : undefined)

/** KTRDR's `type` names for IB security types. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  STK: "stock",
  CASH: "forex",
  FUT: "futures",
  OPT: "options",
  IND: "index"
}
const CALENDAR_KINDS: ReadonlySet<string> = new Set<AssetClass>(["STK", "CASH", "FUT", "IND"])

export interface SymbolMeta {
  readonly name: string
  readonly type: string
  readonly exchange: string
  readonly currency: string
  /** Known only when the asset class is: from the cache, or a symbol that can only be one kind. */
  readonly calendarId: CalendarId | undefined
}

/**
 * Metadata of a series key. `kinds` are the asset classes its symbol could be (SymbolCatalog.parse's
 * candidates): when the cache has no entry and there is a single candidate (`^SPX`, `BRK.B`), the
 * kind is known from the symbol alone; `AAPL` could be a stock, an index or a future, so it stays unknown.
 */
export const metaOf = (key: string, entry: unknown, kinds: ReadonlyArray<AssetClass> = []): SymbolMeta => {
  const e = isObj(entry) ? entry : {}
  const cached = str(e.asset_type)
  const secType = cached ?? (kinds.length === 1 ? kinds[0] : undefined)
  const exchange = str(e.exchange)
  return {
    name: str(e.description) ?? key,
    type: secType === undefined ? "unknown" : TYPE_NAMES[secType] ?? "unknown",
    exchange: exchange ?? "unknown",
    currency: str(e.currency) ?? "unknown",
    calendarId: secType !== undefined && CALENDAR_KINDS.has(secType)
      ? calendarIdFor(secType, exchange ?? "")
      : undefined
  }
}

/**
 * KTRDR's `/symbols` rows: stored series grouped by series key, sorted by symbol, each with its
 * timeframes string-sorted as KTRDR did (the chart takes the first one as its default).
 */
export const symbolInfos = (
  series: ReadonlyArray<StoredSeries>,
  entries: Readonly<Record<string, unknown>>,
  kindsOf: (key: string) => ReadonlyArray<AssetClass>
): Array<SymbolInfo> => {
  const byKey = new Map<string, Array<string>>()
  for (const s of series) byKey.set(s.series, [...(byKey.get(s.series) ?? []), s.timeframe])
  return [...byKey.keys()].sort().map((key) => {
    const m = metaOf(key, entries[key], kindsOf(key))
    return {
      symbol: key,
      name: m.name,
      type: m.type,
      exchange: m.exchange,
      currency: m.currency,
      available_timeframes: [...byKey.get(key)!].sort(),
      trading_hours: m.calendarId === undefined ? null : tradingHoursOf(m.calendarId) ?? null
    }
  })
}
