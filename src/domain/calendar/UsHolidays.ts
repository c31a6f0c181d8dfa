/**
 * NYSE full-day closures and 13:00 (New York) early closes, derived by rule so that any
 * year 1970–2100 works without a hand-maintained table. Days are ISO "YYYY-MM-DD" strings;
 * internally they are handled as epoch days (days since 1970-01-01) so that date arithmetic
 * is plain integer arithmetic and never touches a time zone.
 *
 * Known simplifications (history before the modern rules is only approximated):
 * - Washington's Birthday and Memorial Day use the Monday rules even for 1970 (they took effect in 1971).
 * - Only the one-off closures listed in SPECIAL_CLOSURES are known; older ones (e.g. presidential
 *   election days up to 1980, the 1977 blackout, Hurricane Gloria 1985, Nixon 1994) are not.
 * - The July 3 and December 24 early closes are applied from 1990 on, although NYSE was not fully
 *   consistent about them in some years.
 */

import { civilFromDays } from "../utcDays.ts"
const DAY_MS = 86_400_000
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/

/** Days since 1970-01-01 of an ISO day, or NaN when the string is not a real calendar date. */
export const epochDayOf = (day: string): number => {
  const m = ISO_DAY.exec(day)
  if (m === null) return NaN
  const y = Number(m[1])
  const mo = Number(m[2])
  const d = Number(m[3])
  const date = new Date(Date.UTC(y, mo - 1, d))
  // Date.UTC silently rolls over (Feb 30 → Mar 1) and maps years 0–99 to 19xx, so verify the round trip.
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return NaN
  return date.getTime() / DAY_MS
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`)

/** The ISO day of an epoch day (integer maths is much cheaper than Date formatting). */
export const dayOfEpochDay = (epochDay: number): string => {
  const [y, m, d] = civilFromDays(epochDay)
  return `${String(y).padStart(4, "0")}-${pad2(m)}-${pad2(d)}`
}

/** 0 = Sunday … 6 = Saturday (1970-01-01 was a Thursday). */
export const weekdayOf = (epochDay: number): number => (((epochDay + 4) % 7) + 7) % 7

const epochDay = (year: number, month: number, day: number): number => Date.UTC(year, month - 1, day) / DAY_MS

/** The n-th (1-based) given weekday of a month. */
const nthWeekday = (year: number, month: number, weekday: number, n: number): number => {
  const first = epochDay(year, month, 1)
  return first + ((weekday - weekdayOf(first) + 7) % 7) + 7 * (n - 1)
}

const lastWeekday = (year: number, month: number, weekday: number): number => {
  const last = epochDay(year, month + 1, 0)
  return last - ((weekdayOf(last) - weekday + 7) % 7)
}

/** Fixed-date holidays move off weekends: Saturday → the Friday before, Sunday → the Monday after. */
const observed = (day: number): number => {
  const wd = weekdayOf(day)
  return wd === 6 ? day - 1 : wd === 0 ? day + 1 : day
}

/** Easter Sunday (Gregorian) by the anonymous algorithm (Meeus/Jones/Butcher), as an epoch day. */
const easterEpochDay = (year: number): number => {
  const a = year % 19
  const b = Math.floor(year / 100)
  const c = year % 100
  const d = Math.floor(b / 4)
  const e = b % 4
  const f = Math.floor((b + 8) / 25)
  const g = Math.floor((b - f + 1) / 3)
  const h = (19 * a + b - d - g + 15) % 30
  const i = Math.floor(c / 4)
  const k = c % 4
  const l = (32 + 2 * e + 2 * i - h - k) % 7
  const m = Math.floor((a + 11 * h + 22 * l) / 451)
  const n = h + l - 7 * m + 114
  return epochDay(year, Math.floor(n / 31), (n % 31) + 1)
}

export const easterSunday = (year: number): string => dayOfEpochDay(easterEpochDay(year))

export const NEW_YEARS_DAY = "New Year's Day"
export const GOOD_FRIDAY = "Good Friday"
export const CHRISTMAS = "Christmas"

const SPECIAL_CLOSURES: ReadonlyArray<readonly [string, string]> = [
  ["2001-09-11", "September 11 attacks"],
  ["2001-09-12", "September 11 attacks"],
  ["2001-09-13", "September 11 attacks"],
  ["2001-09-14", "September 11 attacks"],
  ["2004-06-11", "National Day of Mourning (Ronald Reagan)"],
  ["2007-01-02", "National Day of Mourning (Gerald Ford)"],
  ["2012-10-29", "Hurricane Sandy"],
  ["2012-10-30", "Hurricane Sandy"],
  ["2018-12-05", "National Day of Mourning (George H. W. Bush)"],
  ["2025-01-09", "National Day of Mourning (Jimmy Carter)"]
]

interface YearTable {
  readonly holidays: ReadonlyMap<string, string>
  readonly earlyCloses: ReadonlySet<string>
}

const buildYear = (year: number): YearTable => {
  const holidays = new Map<string, string>()
  const add = (day: number, name: string) => holidays.set(dayOfEpochDay(day), name)

  // New Year's Day on a Saturday is not moved to Friday: that Friday closes the previous fiscal year.
  const newYear = epochDay(year, 1, 1)
  if (weekdayOf(newYear) !== 6) add(observed(newYear), NEW_YEARS_DAY)
  if (year >= 1998) add(nthWeekday(year, 1, 1, 3), "Martin Luther King Jr. Day")
  add(nthWeekday(year, 2, 1, 3), "Washington's Birthday")
  add(easterEpochDay(year) - 2, GOOD_FRIDAY)
  add(lastWeekday(year, 5, 1), "Memorial Day")
  if (year >= 2022) add(observed(epochDay(year, 6, 19)), "Juneteenth")
  add(observed(epochDay(year, 7, 4)), "Independence Day")
  add(nthWeekday(year, 9, 1, 1), "Labor Day")
  const thanksgiving = nthWeekday(year, 11, 4, 4)
  add(thanksgiving, "Thanksgiving")
  add(observed(epochDay(year, 12, 25)), CHRISTMAS)
  const prefix = `${String(year).padStart(4, "0")}-`
  for (const [day, name] of SPECIAL_CLOSURES) if (day.startsWith(prefix)) holidays.set(day, name)

  const earlyCloses = new Set<string>([dayOfEpochDay(thanksgiving + 1)])
  if (year >= 1990) {
    for (const day of [epochDay(year, 7, 3), epochDay(year, 12, 24)]) {
      const wd = weekdayOf(day)
      const iso = dayOfEpochDay(day)
      // Skipped when the day is itself the observed holiday (July 4 / Dec 25 on a Saturday).
      if (wd !== 0 && wd !== 6 && !holidays.has(iso)) earlyCloses.add(iso)
    }
  }
  return { holidays, earlyCloses }
}

const years = new Map<number, YearTable>()

const yearTable = (year: number): YearTable | undefined => {
  if (!Number.isInteger(year)) return undefined
  let t = years.get(year)
  if (t === undefined) {
    t = buildYear(year)
    years.set(year, t)
  }
  return t
}

const yearOf = (day: string): number => Number(day.slice(0, 4))

/** The name of the NYSE holiday or special closure falling on `day` (observed date), if any. */
export const nyseHoliday = (day: string): string | undefined => yearTable(yearOf(day))?.holidays.get(day)

/** Whether NYSE closes early (13:00 New York) on `day`. */
export const nyseEarlyClose = (day: string): boolean => yearTable(yearOf(day))?.earlyCloses.has(day) ?? false

export interface NyseHoliday {
  readonly day: string
  readonly name: string
}

/** All NYSE closures of a year (excluding weekends), ascending. */
export const nyseHolidays = (year: number): ReadonlyArray<NyseHoliday> =>
  [...(yearTable(year)?.holidays ?? [])]
    .map(([day, name]) => ({ day, name }))
    .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0))

/** All NYSE 13:00 early-close days of a year, ascending. */
export const nyseEarlyCloses = (year: number): ReadonlyArray<string> => [...(yearTable(year)?.earlyCloses ?? [])].sort()
