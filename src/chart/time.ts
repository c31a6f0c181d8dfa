/**
 * Chart times. lightweight-charts draws every timestamp as UTC, so "exchange time" is shown the way its
 * docs recommend: each bar's time is shifted by the zone's UTC offset at that instant. Offsets come from
 * `Intl` (the browser's tz database), never from a hand-written table.
 */

export type TimeMode = "utc" | "exchange"

/** Parses the API's `YYYY-MM-DDTHH:MM:SSZ` (a naive time is UTC, as KTRDR's files are) to epoch ms. */
export const parseUtc = (s: string): number => Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`)

const BUCKET_MS = 15 * 60_000

/**
 * `utcMs → offset ms` for one IANA zone. Offsets only change at transitions, which fall on quarter
 * hours, so one `Intl` call per 15-minute bucket is exact and keeps 100k-bar series fast.
 */
export const zoneOffset = (timeZone: string) => {
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit"
  })
  const cache = new Map<number, number>()
  return (utcMs: number): number => {
    const bucket = Math.floor(utcMs / BUCKET_MS)
    const hit = cache.get(bucket)
    if (hit !== undefined) return hit
    const at = bucket * BUCKET_MS
    const p: Record<string, number> = {}
    for (const part of fmt.formatToParts(at)) if (part.type !== "literal") p[part.type] = Number(part.value)
    const wall = Date.UTC(p["year"]!, p["month"]! - 1, p["day"]!, p["hour"]!, p["minute"]!, p["second"]!)
    const offset = wall - at
    cache.set(bucket, offset)
    return offset
  }
}

/** Whether the browser knows the zone (an unknown one would make `Intl` throw). */
export const validZone = (timeZone: string | null | undefined): timeZone is string => {
  if (!timeZone) return false
  try {
    new Intl.DateTimeFormat("en-US", { timeZone })
    return true
  } catch {
    return false
  }
}

/** The chart's time (seconds) for a bar at `utcMs`: UTC as is, or the exchange's wall clock. */
export const chartTime = (mode: TimeMode, offset: ((ms: number) => number) | null) => (utcMs: number): number =>
  Math.floor((mode === "exchange" && offset !== null ? utcMs + offset(utcMs) : utcMs) / 1000)
