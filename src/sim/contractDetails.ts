/** CONTRACT_DATA (10) at server version 193, field for field (tws-protocol.md §2.6), and IB's hours strings. */
import { calendarFor, type Hours } from "../domain/calendar/index.ts"
import { orderTypesFor, type Instrument } from "./instruments.ts"
import { Msg } from "./protocol.ts"
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

export const contractDataFields = (reqId: number, inst: Instrument, exchange: string, nowMs: number): Array<Field> => {
  const cal = calendarFor(inst.calendar)
  return [
    Msg.CONTRACT_DATA,
    reqId,
    inst.symbol,
    inst.secType,
    inst.lastTradeDateOrContractMonth,
    inst.lastTradeDate,
    0, // strike
    "", // right
    exchange,
    inst.currency,
    inst.localSymbol,
    inst.marketName,
    inst.tradingClass,
    inst.conId,
    inst.minTick,
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
    inst.aggGroup,
    inst.underSymbol,
    inst.underSecType,
    inst.marketRuleIds,
    inst.realExpirationDate,
    inst.stockType,
    ...inst.sizeRules,
    0 // ineligibilityReasonCount
  ]
}
