/** Contract matching as IB does it for REQ_CONTRACT_DATA and for the contract of a historical request. */
import { DateTime } from "luxon"
import { FUTURE_ROOTS, futureContract, SPOT, thirdFriday, type Instrument } from "./instruments.ts"

export interface ContractQuery {
  readonly conId: number
  readonly symbol: string
  readonly secType: string
  readonly lastTradeDateOrContractMonth: string
  readonly exchange: string
  readonly primaryExch: string
  readonly currency: string
  readonly localSymbol: string
  readonly tradingClass: string
  readonly includeExpired: boolean
}

const EXPIRED_HORIZON_MS = 2 * 365 * 86_400_000
const QUARTERS_LISTED = 5

const expiryCloseMs = (year: number, month: number): number =>
  DateTime.fromISO(`${thirdFriday(year, month)}T08:30:00`, { zone: "America/Chicago" }).toMillis()

/** The quarterlies of every root that are listed at `nowMs`, plus those expired within two years. */
const futuresAround = (nowMs: number): Array<Instrument> => {
  const out: Array<Instrument> = []
  const now = new Date(nowMs)
  for (const root of FUTURE_ROOTS) {
    let listed = 0
    for (let y = now.getUTCFullYear() - 3; y <= now.getUTCFullYear() + 3 && listed < QUARTERS_LISTED; y++) {
      for (const m of [3, 6, 9, 12]) {
        const close = expiryCloseMs(y, m)
        if (close < nowMs - EXPIRED_HORIZON_MS) continue
        if (close > nowMs && ++listed > QUARTERS_LISTED) break
        out.push(futureContract(root, y, m, close))
      }
    }
  }
  return out
}

let cache: { readonly day: number; readonly all: ReadonlyArray<Instrument> } | undefined

/** All instruments that exist at `nowMs` (futures roll with time), memoised per UTC day. */
export const allInstruments = (nowMs: number): ReadonlyArray<Instrument> => {
  const day = Math.floor(nowMs / 86_400_000)
  if (cache?.day !== day) cache = { day, all: [...SPOT, ...futuresAround(nowMs)] }
  return cache.all
}

const isExpired = (i: Instrument, nowMs: number) => i.lastDataMs !== undefined && i.lastDataMs <= nowMs

const eq = (a: string, b: string) => a.toUpperCase() === b.toUpperCase()

const exchangeMatches = (i: Instrument, exchange: string): boolean => {
  if (exchange === "") return true
  const e = exchange.toUpperCase()
  if (i.secType === "FUT") return e === "CME" || e === "GLOBEX"
  if (i.secType === "STK") {
    return e === "SMART" || eq(e, i.primaryExch) || (e === "ISLAND" && i.primaryExch === "NASDAQ")
  }
  return eq(e, i.exchange)
}

const expiryMatches = (i: Instrument, spec: string): boolean => {
  if (spec === "") return true
  const s = spec.replaceAll("-", "").slice(0, 8)
  return s.length === 6 ? i.contractMonth === s : i.lastTradeDate === s
}

/** Every instrument matching the query; a conId match ignores the other fields, as IB does. */
export const findContracts = (q: ContractQuery, nowMs: number): Array<Instrument> => {
  const all = allInstruments(nowMs)
  if (q.conId > 0) return all.filter((i) => i.conId === q.conId)
  if (q.symbol === "" && q.localSymbol === "") return []
  return all.filter((i) =>
    (q.symbol === "" || eq(i.symbol, q.symbol)) &&
    (q.localSymbol === "" || eq(i.localSymbol, q.localSymbol)) &&
    (q.secType === "" || eq(i.secType, q.secType)) &&
    (q.currency === "" || eq(i.currency, q.currency)) &&
    (q.tradingClass === "" || eq(i.tradingClass, q.tradingClass)) &&
    (q.primaryExch === "" || i.secType !== "STK" || eq(i.primaryExch, q.primaryExch)) &&
    exchangeMatches(i, q.exchange) &&
    expiryMatches(i, q.lastTradeDateOrContractMonth) &&
    (q.includeExpired || !isExpired(i, nowMs))
  )
}

/** The exchange a contract-details answer names: the one asked for, else SMART for stocks. */
export const answeredExchange = (i: Instrument, asked: string): string => {
  if (i.secType === "STK") return asked === "" ? "SMART" : asked.toUpperCase()
  return i.exchange
}
