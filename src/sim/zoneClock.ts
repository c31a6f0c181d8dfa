/** Exchange-local wall clock for formatting and bar alignment, with the zone offset memoised per hour. */
import { DateTime } from "luxon"

const HOUR = 3_600_000
const offsets = new Map<string, Map<number, number>>()

/** Offset of `zone` from UTC at `ms`, in ms. DST changes in our zones happen on whole hours. */
export const offsetMs = (zone: string, ms: number): number => {
  let byHour = offsets.get(zone)
  if (!byHour) offsets.set(zone, byHour = new Map())
  const key = Math.floor(ms / HOUR)
  let off = byHour.get(key)
  if (off === undefined) {
    off = DateTime.fromMillis(key * HOUR, { zone }).offset * 60_000
    if (byHour.size > 200_000) byHour.clear()
    byHour.set(key, off)
  }
  return off
}

const TWO = Array.from({ length: 60 }, (_, i) => (i < 10 ? "0" : "") + i)
const DAY = 86_400_000
const dayPrefix = new Map<number, string>()

/** `yyyyMMdd` of an epoch day, memoised: bar answers format thousands of stamps on a handful of days. */
const yyyymmdd = (epochDay: number): string => {
  let p = dayPrefix.get(epochDay)
  if (p === undefined) {
    p = new Date(epochDay * DAY).toISOString().slice(0, 10).replaceAll("-", "")
    if (dayPrefix.size > 50_000) dayPrefix.clear()
    dayPrefix.set(epochDay, p)
  }
  return p
}

/** `yyyyMMdd HH:mm:ss` on the zone's wall clock. */
export const formatLocal = (ms: number, zone: string): string => {
  const local = ms + offsetMs(zone, ms)
  const day = Math.floor(local / DAY)
  const sod = Math.floor((local - day * DAY) / 1000)
  return `${yyyymmdd(day)} ${TWO[Math.floor(sod / 3600)]}:${TWO[Math.floor(sod / 60) % 60]}:${TWO[sod % 60]}`
}

/** `yyyyMMdd` from an ISO day. */
export const compactDay = (isoDay: string): string => isoDay.replaceAll("-", "")

/** ISO day shifted by whole days, months or years (calendar arithmetic on the date only). */
export const shiftDay = (isoDay: string, unit: "day" | "month" | "year", n: number): string => {
  const [y, m, d] = isoDay.split("-").map(Number) as [number, number, number]
  const date = new Date(
    Date.UTC(unit === "year" ? y + n : y, unit === "month" ? m - 1 + n : m - 1, unit === "day" ? d + n : d)
  )
  return date.toISOString().slice(0, 10)
}
