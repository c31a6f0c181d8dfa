/**
 * Calendar arithmetic on UTC days without Date objects (H. Hinnant's days-from-civil), so the CSV codec can turn
 * digits into epoch ms and back at millions of rows per second.
 */

export const DAY_MS = 86_400_000
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: what a four-digit year can write. */
export const MIN_TIME = -62_167_219_200_000
export const MAX_TIME = 253_402_300_799_999

/** Days since 1970-01-01 of a proleptic Gregorian date (month 1–12). */
export const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

/** Inverse of daysFromCivil: [year, month 1–12, day]. */
export const civilFromDays = (days: number): [number, number, number] => {
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d]
}

const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

export const daysInMonth = (year: number, month: number): number =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : (MONTH_DAYS[month] ?? 0)

const PAD2 = Array.from({ length: 100 }, (_, i) => (i < 10 ? "0" : "") + String(i))
const pad4 = (y: number): string => (y >= 1000 ? String(y) : String(y).padStart(4, "0"))

/** `YYYY-MM-DDT` of a UTC day (cached per day by callers that format many rows). */
export const formatDayPrefix = (days: number): string => {
  const [y, m, d] = civilFromDays(days)
  return `${pad4(y)}-${PAD2[m]}-${PAD2[d]}T`
}

/** `HH:MM:SS[.mmm]Z` of a time of day in ms; milliseconds only when present, so whole-second bars look like KTRDR's. */
export const formatTimeOfDay = (ms: number): string => {
  const s = Math.floor(ms / 1000)
  const frac = ms - s * 1000
  const tail = frac === 0 ? "Z" : `.${String(frac).padStart(3, "0")}Z`
  return `${PAD2[Math.floor(s / 3600)]}:${PAD2[Math.floor(s / 60) % 60]}:${PAD2[s % 60]}${tail}`
}

/** KTRDR's written form `YYYY-MM-DDTHH:MM:SSZ` of an epoch-ms instant. */
export const formatUtc = (ms: number): string => {
  const days = Math.floor(ms / DAY_MS)
  return formatDayPrefix(days) + formatTimeOfDay(ms - days * DAY_MS)
}
