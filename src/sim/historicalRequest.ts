/**
 * REQ_HISTORICAL_DATA end to end: IB's validation (321 texts), contract resolution (200), permissions
 * (162 for TRADES on forex), pacing (162), the open-request cap, latency, then HISTORICAL_DATA (17) —
 * or 162 "no data" for an empty window — and keepUpToDate streaming (90) until cancelled.
 */
import { calendarFor } from "../domain/calendar/index.ts"
import { isSmallBar, parseBarSize, parseDuration, parseEndDateTime, stepAllowed } from "../domain/IbHistoricalRules.ts"
import { findContracts } from "./catalog.ts"
import { generateBars, type Bar, type HistoricalQuery } from "./historicalBars.ts"
import type { Instrument, WhatToShow } from "./instruments.ts"
import { pacedRequestOf } from "./pacing.ts"
import { Msg, Text } from "./protocol.ts"
import type { HistoricalData } from "./requests.ts"
import type { SessionPort as Session, SimContext } from "./sessionPort.ts"
import { MinVer } from "./versions.ts"
import { compactDay, formatLocal } from "./zoneClock.ts"

const WHAT_TO_SHOW: ReadonlyArray<string> = [
  "TRADES",
  "MIDPOINT",
  "BID",
  "ASK",
  "BID_ASK",
  "ADJUSTED_LAST",
  "HISTORICAL_VOLATILITY",
  "OPTION_IMPLIED_VOLATILITY"
]
const MAX_OPEN = 50
/** How often a keepUpToDate subscription sends its live bar, before time scaling. */
const UPDATE_EVERY_MS = 5_000

type Req = typeof HistoricalData.Type

/**
 * HISTORICAL_DATA. From v124: `17, reqId, start, end, count, (date, o, h, l, c, volume, WAP, barCount)*`; before,
 * a version field (3) follows the id and every bar carries hasGaps before its barCount.
 */
export const historicalFrame = (
  reqId: number,
  inst: Instrument,
  formatDate: number,
  fromMs: number,
  toMs: number,
  bars: ReadonlyArray<Bar>,
  v: number
) => {
  const zone = calendarFor(inst.calendar).timeZone
  const tzId = calendarFor(inst.calendar).ibTimeZoneId
  const old = v < MinVer.SYNT_REALTIME_BARS
  // Built as one string: answers run to thousands of bars and this is the simulator's hot path.
  // Prices are already canonical decimals (roundTo), so String() gives IB's short form.
  let body = `${Msg.HISTORICAL_DATA}\0${old ? "3\0" : ""}${reqId}\0${formatLocal(fromMs, zone)} ${tzId}\0${
    formatLocal(toMs, zone)
  } ${tzId}\0${bars.length}\0`
  const gaps = old ? "0\0" : ""
  for (const b of bars) {
    const date = barDate(b, formatDate, zone, tzId)
    body += `${date}\0${b.o}\0${b.h}\0${b.l}\0${b.c}\0${b.v}\0${b.wap}\0${gaps}${b.count}\0`
  }
  return { body, count: bars.length }
}

/** Daily and larger bars are always `yyyyMMdd`, even with formatDate 2 (stoqey/ibkr#144). */
const barDate = (b: Bar, formatDate: number, zone: string, tzId: string): string =>
  b.day !== undefined ? compactDay(b.day) : formatDate === 2 ? String(b.t / 1000) : `${formatLocal(b.t, zone)} ${tzId}`

const validate = (m: Req): string | undefined => {
  if (m.formatDate !== 1 && m.formatDate !== 2) return Text.invalidFormatDate(String(m.formatDate))
  const bar = parseBarSize(m.barSize)
  if (!bar) return Text.invalidBarSize
  const duration = parseDuration(m.duration)
  if (!duration) return Text.invalidDuration(m.duration)
  if (!stepAllowed(duration, bar)) return Text.invalidStep(m.duration, m.barSize)
  if (!WHAT_TO_SHOW.includes(m.whatToShow)) return Text.invalidWhatToShow(m.whatToShow)
  if (m.keepUpToDate && m.endDateTime !== "") return Text.unsupportedKeepUpToDate
  return undefined
}

export const handleHistorical = (session: Session, ctx: SimContext, m: Req): void => {
  const reqId = m.reqId
  const invalid = validate(m)
  if (invalid) return session.sendError(reqId, 321, invalid)
  const bar = parseBarSize(m.barSize)!
  const duration = parseDuration(m.duration)!

  if (m.conId === 0 && m.exchange === "") {
    return session.sendError(reqId, 321, "Error validating request.-'bK' : cause - Please enter exchange")
  }
  const now = ctx.now()
  const matches = findContracts(m, now)
  if (matches.length === 0) return session.sendError(reqId, 200, Text.noSecurityDefinition)
  if (matches.length > 1) {
    return session.sendError(
      reqId,
      200,
      `The contract description specified for ${m.symbol || m.localSymbol} is ambiguous.`
    )
  }
  const inst = matches[0]!
  const cal = calendarFor(inst.calendar)

  const end = parseEndDateTime(m.endDateTime, cal.timeZone)
  if (!end) return session.sendError(reqId, 10314, Text.invalidEndDate)
  // ADJUSTED_LAST is TRADES adjusted for splits; the simulator has no corporate actions.
  const what = (m.whatToShow === "ADJUSTED_LAST" ? "TRADES" : m.whatToShow) as WhatToShow
  if (!inst.whatToShow.includes(what)) {
    return session.sendError(reqId, 162, Text.noMarketData(`${inst.symbol}`, inst.secType, inst.exchange, bar.seconds))
  }

  if (ctx.faults.pacingViolationNext > 0) {
    ctx.faults.pacingViolationNext--
    ctx.counters.pacingViolations++
    return session.sendError(reqId, 162, Text.pacing)
  }
  if (ctx.pacing.admit(pacedRequestOf(m, inst.conId, what, bar, isSmallBar(bar)), now)) {
    ctx.counters.pacingViolations++
    return session.sendError(reqId, 162, Text.pacing)
  }
  if (session.inFlight.has(reqId)) return session.sendError(reqId, 322, Text.duplicateTicker(reqId))
  if (ctx.openHistorical() >= MAX_OPEN) return session.sendError(reqId, 162, Text.tooManyOpen)

  if (end._tag === "At" && !end.explicitZone) session.sendError(reqId, 2174, Text.noTimeZoneWarning)
  const endMs = end._tag === "Now" ? now : end.ms
  const query: HistoricalQuery = { inst, endMs, nowMs: now, duration, bar, useRTH: m.useRTH, whatToShow: what }
  const answer = generateBars(query)

  const deliver = () => {
    session.clearInFlight(reqId)
    session.whenHmdsUp(() => {
      if (ctx.faults.notice165) session.sendError(reqId, 165, Text.hmdsConnected)
      if (answer.bars.length === 0) {
        session.markFinished(reqId)
        return session.sendError(reqId, 162, Text.noData(inst.symbol, inst.exchange, what))
      }
      const frame = historicalFrame(reqId, inst, m.formatDate, answer.fromMs, answer.toMs, answer.bars, session.version)
      if (ctx.faults.closeMidResponse) {
        ctx.faults.closeMidResponse = false
        return session.sendTruncated(frame.body)
      }
      session.sendBars(frame)
      if (m.keepUpToDate) return stream(session, ctx, reqId, m.formatDate, query)
      session.markFinished(reqId)
    })
  }
  const timer = session.later(ctx.latencyFor(answer.bars.length), deliver)
  if (timer) session.inFlight.set(reqId, { timer })
}

/**
 * keepUpToDate: every 5 s (time-scaled) the bar that contains the gateway's clock is recomputed from the
 * minute data and sent as HISTORICAL_DATA_UPDATE, `90, reqId, barCount, date, open, close, high, low, WAP,
 * volume` (tws-protocol.md §2.6); barCount is the bar's trade count. When the clock crosses a bar boundary the
 * update carries the new bar. With the market closed it keeps repeating the last bar, as TWS does.
 */
const stream = (session: Session, ctx: SimContext, reqId: number, formatDate: number, q: HistoricalQuery): void => {
  const cal = calendarFor(q.inst.calendar)
  const interval = setInterval(() => {
    const now = ctx.now()
    const live = generateBars({ ...q, endMs: now, nowMs: now }).bars.at(-1)
    if (!live) return
    const date = barDate(live, formatDate, cal.timeZone, cal.ibTimeZoneId)
    const { c, count, h, l, o, v, wap } = live
    session.send([Msg.HISTORICAL_DATA_UPDATE, reqId, count, date, o, c, h, l, wap, v])
  }, Math.max(10, UPDATE_EVERY_MS / ctx.timeScale()))
  session.inFlight.set(reqId, { interval })
}
