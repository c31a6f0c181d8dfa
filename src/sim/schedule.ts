/**
 * whatToShow=SCHEDULE (server ≥ 165): instead of bars, the trading sessions of the requested window from our
 * exchange calendars, as HISTORICAL_SCHEDULE `106, reqId, start, end, timeZone, count, (start, end, refDate)*`
 * with times as `yyyyMMdd-HH:mm:ss` on the exchange's wall clock (how TWS writes them).
 */
import { calendarFor } from "../domain/calendar/index.ts"
import { parseBarSize, parseDuration, parseEndDateTime } from "../domain/IbHistoricalRules.ts"
import { findContracts } from "./catalog.ts"
import { windowStart } from "./historicalBars.ts"
import { Msg, Text } from "./protocol.ts"
import type { HistoricalData } from "./requests.ts"
import type { SessionPort, SimContext } from "./sessionPort.ts"
import { formatLocal } from "./zoneClock.ts"

const stamp = (ms: number, zone: string) => formatLocal(ms, zone).replace(" ", "-")

export const answerSchedule = (s: SessionPort, ctx: SimContext, m: typeof HistoricalData.Type): void => {
  const duration = parseDuration(m.duration)
  if (!parseBarSize(m.barSize)) return s.sendError(m.reqId, 321, Text.invalidBarSize)
  if (!duration) return s.sendError(m.reqId, 321, Text.invalidDuration(m.duration))
  const now = ctx.now()
  const matches = findContracts(m, now)
  if (matches.length !== 1) return s.sendError(m.reqId, 200, Text.noSecurityDefinition)
  const cal = calendarFor(matches[0]!.calendar)
  const end = parseEndDateTime(m.endDateTime, cal.timeZone)
  if (!end) return s.sendError(m.reqId, 10314, Text.invalidEndDate)
  const endMs = end._tag === "Now" ? now : end.ms
  const hours = m.useRTH ? "regular" : "extended"
  const from = windowStart(cal, endMs, duration, hours)
  // Sessions that end after `endMs` still belong to the schedule: it is a timetable, not data.
  const sessions = cal.sessionsBetween(from, endMs, hours).filter((x) => x.open < endMs)
  const fields: Array<string | number> = [
    Msg.HISTORICAL_SCHEDULE,
    m.reqId,
    stamp(sessions[0]?.open ?? from, cal.timeZone),
    stamp(sessions.at(-1)?.close ?? endMs, cal.timeZone),
    cal.ibTimeZoneId,
    sessions.length
  ]
  for (const x of sessions) {
    fields.push(stamp(x.open, cal.timeZone), stamp(x.close, cal.timeZone), x.tradingDay.replaceAll("-", ""))
  }
  s.send(fields)
}
