/** The chart's time-axis labels (pure: no DOM, so the page's tests can check them in Node). */
import type { Time } from "lightweight-charts"

/** lightweight-charts' `TickMarkType` values, written out so this module imports no chart code at run time. */
export const TickMarkType = { Year: 0, Month: 1, DayOfMonth: 2, Time: 3, TimeWithSeconds: 4 } as const
export type TickMarkType = (typeof TickMarkType)[keyof typeof TickMarkType]

const pad = (n: number) => String(n).padStart(2, "0")

/**
 * Time-axis labels: a session's first bar is labelled with its day, like every other day boundary. The
 * library labels a day by the calendar change it sees between ticks, so the first day on screen (and any
 * day whose first tick is not its first bar) showed the session's opening time — 14:30 or 09:30 — among
 * whole-hour labels.
 */
export const tickLabel = (dayStarts: ReadonlySet<number>) => (time: Time, type: TickMarkType): string => {
  const t = time as number
  const d = new Date(t * 1000)
  switch (type) {
    case TickMarkType.Year:
      return String(d.getUTCFullYear())
    case TickMarkType.Month:
      return d.toLocaleString("en-US", { month: "short", timeZone: "UTC" })
    case TickMarkType.DayOfMonth:
      return String(d.getUTCDate())
    default: {
      if (dayStarts.has(t)) return `${d.getUTCDate()} ${d.toLocaleString("en-US", { month: "short", timeZone: "UTC" })}`
      const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
      return type === TickMarkType.TimeWithSeconds ? `${hm}:${pad(d.getUTCSeconds())}` : hm
    }
  }
}
