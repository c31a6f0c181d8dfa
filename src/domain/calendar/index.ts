export {
  CALENDAR_IDS,
  calendarFor,
  type CalendarId,
  type ClosedReason,
  type Closure,
  type Hours,
  type Session,
  type TradingCalendar
} from "./TradingCalendar.ts"
export {
  dayOfEpochDay,
  easterSunday,
  epochDayOf,
  nyseEarlyClose,
  nyseEarlyCloses,
  nyseHoliday,
  nyseHolidays,
  type NyseHoliday,
  weekdayOf
} from "./UsHolidays.ts"
