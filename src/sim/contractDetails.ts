/**
 * CONTRACT_DATA (10) field for field in the layout of the negotiated server version (tws-protocol.md §2.6;
 * thresholds in versions.ts), and IB's hours strings.
 */
import { calendarFor, type Hours } from "../domain/calendar/index.ts"
import { orderTypesFor, type Instrument } from "./instruments.ts"
import { Msg } from "./protocol.ts"
import { MinVer } from "./versions.ts"
import type { Field } from "./wire.ts"
import { offsetMs, shiftDay } from "./zoneClock.ts"

const pad = (n: number) => (n < 10 ? "0" : "") + n

const localStamp = (ms: number, zone: string): string => {
  const d = new Date(ms + offsetMs(zone, ms))
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}:${pad(d.getUTCHours())}${
    pad(d.getUTCMinutes())
  }`
}

/**
 * IB's `tradingHours` / `liquidHours` form: `20240102:0930-20240102:1600;20240103:CLOSED;…` for a week
 * of trading days starting yesterday, in the contract's time zone.
 */
export const ibHoursString = (inst: Instrument, nowMs: number, hours: Hours): string => {
  const cal = calendarFor(inst.calendar)
  const today = new Date(nowMs + offsetMs(cal.timeZone, nowMs)).toISOString().slice(0, 10)
  const parts: Array<string> = []
  for (let i = -1; i < 7; i++) {
    const day = shiftDay(today, "day", i)
    const s = cal.session(day, hours)
    parts.push(
      s
        ? `${localStamp(s.open, cal.timeZone)}-${localStamp(s.close, cal.timeZone)}`
        : `${day.replaceAll("-", "")}:CLOSED`
    )
  }
  return parts.join(";")
}

export const contractDataFields = (
  reqId: number,
  inst: Instrument,
  exchange: string,
  nowMs: number,
  v: number
): Array<Field> => {
  const cal = calendarFor(inst.calendar)
  const when = (min: number, ...fields: ReadonlyArray<Field>) => (v >= min ? fields : [])
  return [
    Msg.CONTRACT_DATA,
    // Before SIZE_RULES the message carries its own version (8: every optional block present).
    ...(v < MinVer.SIZE_RULES ? [8] : []),
    reqId,
    inst.symbol,
    inst.secType,
    inst.lastTradeDateOrContractMonth,
    ...when(MinVer.LAST_TRADE_DATE, inst.lastTradeDate),
    0, // strike
    "", // right
    exchange,
    inst.currency,
    inst.localSymbol,
    inst.marketName,
    inst.tradingClass,
    inst.conId,
    inst.minTick,
    ...(v >= MinVer.MD_SIZE_MULTIPLIER && v < MinVer.SIZE_RULES ? [1] : []), // mdSizeMultiplier
    inst.multiplier,
    orderTypesFor(inst),
    inst.validExchanges,
    1, // priceMagnifier
    inst.underConId,
    inst.longName,
    inst.primaryExch,
    inst.contractMonth,
    inst.industry,
    inst.category,
    inst.subcategory,
    cal.ibTimeZoneId,
    ibHoursString(inst, nowMs, "extended"),
    ibHoursString(inst, nowMs, "regular"),
    "", // evRule
    "", // evMultiplier
    inst.secIds.length,
    ...inst.secIds.flat(),
    ...when(MinVer.AGG_GROUP, inst.aggGroup),
    ...when(MinVer.UNDERLYING_INFO, inst.underSymbol, inst.underSecType),
    ...when(MinVer.MARKET_RULES, inst.marketRuleIds),
    ...when(MinVer.REAL_EXPIRATION_DATE, inst.realExpirationDate),
    ...when(MinVer.STOCK_TYPE, inst.stockType),
    ...(v === MinVer.FRACTIONAL_SIZE_SUPPORT ? [inst.sizeRules[0]!] : []), // sizeMinTick
    ...(v >= MinVer.SIZE_RULES ? inst.sizeRules : []),
    ...when(MinVer.INELIGIBILITY_REASONS, 0) // ineligibilityReasonCount
  ]
}
