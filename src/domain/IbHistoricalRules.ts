/**
 * IB's rules for historical bar requests (tws-protocol.md §5.1): legal bar-size strings, duration
 * strings, the duration/bar-size step table and end date-time formats. Shared by the simulator, which
 * enforces them, and by request planning, which must never produce a request they reject.
 */
import { DateTime } from "luxon"

export type BarKind = "intraday" | "day" | "week" | "month"

export interface BarSize {
  /** The string IB accepts, as @stoqey/ib's BarSizeSetting spells it. */
  readonly ib: string
  /** Nominal length; 30 days for a month, used only for ordering and the step table. */
  readonly seconds: number
  readonly kind: BarKind
}

const bar = (ib: string, seconds: number, kind: BarKind = "intraday"): BarSize => ({ ib, seconds, kind })

export const BAR_SIZES: ReadonlyArray<BarSize> = [
  bar("1 secs", 1),
  bar("5 secs", 5),
  bar("10 secs", 10),
  bar("15 secs", 15),
  bar("30 secs", 30),
  bar("1 min", 60),
  bar("2 mins", 120),
  bar("3 mins", 180),
  bar("5 mins", 300),
  bar("10 mins", 600),
  bar("15 mins", 900),
  bar("20 mins", 1200),
  bar("30 mins", 1800),
  bar("1 hour", 3600),
  bar("2 hours", 7200),
  bar("3 hours", 10800),
  bar("4 hours", 14400),
  bar("8 hours", 28800),
  bar("1 day", 86400, "day"),
  bar("1 week", 604800, "week"),
  bar("1 month", 2592000, "month")
]

/** IB also accepts the short forms its own error text lists. */
const ALIASES: Record<string, string> = { "1W": "1 week", "1M": "1 month" }

const byString = new Map(BAR_SIZES.map((b) => [b.ib, b]))

export const parseBarSize = (s: string): BarSize | undefined => byString.get(ALIASES[s] ?? s)

export type DurationUnit = "S" | "D" | "W" | "M" | "Y"

export interface Duration {
  readonly n: number
  readonly unit: DurationUnit
  /** Nominal length in seconds (D = 86400, W = 7 D, M = 30 D, Y = 365 D) for the step table. */
  readonly seconds: number
}

const UNIT_SECONDS: Record<DurationUnit, number> = { S: 1, D: 86400, W: 604800, M: 2592000, Y: 31536000 }

export const parseDuration = (s: string): Duration | undefined => {
  const m = /^([1-9]\d{0,6}) ([SDWMY])$/.exec(s)
  if (!m) return undefined
  const n = Number(m[1])
  const unit = m[2] as DurationUnit
  return { n, unit, seconds: n * UNIT_SECONDS[unit] }
}

export const formatDuration = (d: Pick<Duration, "n" | "unit">): string => `${d.n} ${d.unit}`

/** [duration seconds, smallest bar, largest bar] — IB's "step sizes" table. */
export const STEP_TABLE: ReadonlyArray<readonly [number, number, number]> = [
  [60, 1, 60],
  [120, 1, 120],
  [1800, 1, 1800],
  [3600, 5, 3600],
  [14400, 10, 10800],
  [28800, 30, 28800],
  [86400, 60, 86400],
  [172800, 120, 86400],
  [604800, 180, 604800],
  [2592000, 1800, 2592000],
  [31536000, 86400, 2592000]
]

/** The table row governing a duration: the first row at least as long, else the last. */
export const stepRow = (d: Duration): readonly [number, number, number] =>
  STEP_TABLE.find(([secs]) => secs >= d.seconds) ?? STEP_TABLE[STEP_TABLE.length - 1]!

export const stepAllowed = (d: Duration, b: BarSize): boolean => {
  const [, min, max] = stepRow(d)
  return b.seconds >= min && b.seconds <= max
}

/** Historical pacing rules apply to bars of 30 seconds or less. */
export const isSmallBar = (b: BarSize): boolean => b.seconds <= 30

export type EndDateTime =
  | { readonly _tag: "Now" }
  | { readonly _tag: "At"; readonly ms: number; readonly explicitZone: boolean }

/**
 * `""` (now), `yyyyMMdd-HH:mm:ss` (UTC), `yyyyMMdd HH:mm:ss <zone>`, or `yyyyMMdd HH:mm:ss` in
 * `impliedZone` (IB then warns with 2174). Returns undefined for anything else, including an unknown zone.
 */
export const parseEndDateTime = (s: string, impliedZone: string): EndDateTime | undefined => {
  if (s === "") return { _tag: "Now" }
  const utc = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})$/.exec(s)
  if (utc) return at(utc, "UTC", true)
  const zoned = /^(\d{4})(\d{2})(\d{2}) {1,2}(\d{2}):(\d{2}):(\d{2})(?: (\S+))?$/.exec(s)
  if (!zoned) return undefined
  return at(zoned, zoned[7] ?? impliedZone, zoned[7] !== undefined)
}

const at = (m: RegExpExecArray, zone: string, explicitZone: boolean): EndDateTime | undefined => {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  const dt = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone })
  // luxon normalises 25:00 or Feb 30 silently; a real gateway rejects them, so compare back.
  if (
    !dt.isValid || dt.month !== month || dt.day !== day || dt.hour !== hour || dt.minute !== minute ||
    dt.second !== second
  ) return undefined
  return { _tag: "At", ms: dt.toMillis(), explicitZone }
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0")

/** `yyyyMMdd-HH:mm:ss` in UTC: the unambiguous end-time form. */
export const formatIbUtc = (ms: number): string => {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}:${
    pad(d.getUTCMinutes())
  }:${pad(d.getUTCSeconds())}`
}
