import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { nyseEarlyClose, nyseHoliday } from "../../src/domain/calendar/index.ts"
import { timeframeOf } from "../../src/domain/Timeframe.ts"
import { tradingHoursOf } from "../../src/domain/tradingHours.ts"
import { hoursOf, sessionFilter } from "../../src/domain/tradingHoursFilter.ts"

/** New York wall clock of an instant through Intl — independent of the calendars' own zone code. */
const nyParts = (ms: number) => {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: "America/New_York",
    hourCycle: "h23",
    weekday: "short",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit"
  }).formatToParts(new Date(ms))
  const get = (t: string) => parts.find((p) => p.type === t)!.value
  return {
    day: `${get("year")}-${get("month")}-${get("day")}`,
    weekday: get("weekday"),
    minute: Number(get("hour")) * 60 + Number(get("minute"))
  }
}

const ET = (iso: string) => Date.parse(`${iso}-05:00`)
const EDT = (iso: string) => Date.parse(`${iso}-04:00`)

describe("trading hours description (from the calendars)", () => {
  it("US equities: 09:30–16:00 New York, pre-market and after-hours, Monday–Friday", () => {
    expect(tradingHoursOf("us-equity")).toEqual({
      timezone: "America/New_York",
      regular_hours: { start: "09:30", end: "16:00", name: "Regular" },
      extended_hours: [{ start: "04:00", end: "09:30", name: "Pre-Market" }, {
        start: "16:00",
        end: "20:00",
        name: "After-Hours"
      }],
      trading_days: [0, 1, 2, 3, 4]
    })
  })

  it("indices have no extended session; CME futures and forex open on Sunday evening", () => {
    expect(tradingHoursOf("us-index")?.extended_hours).toEqual([])
    const cme = tradingHoursOf("cme-equity-futures")!
    expect(cme.timezone).toBe("America/Chicago")
    expect(cme.regular_hours).toMatchObject({ start: "08:30", end: "15:00" })
    expect(cme.extended_hours).toEqual([{ start: "17:00", end: "08:30", name: "Pre-Market" }, {
      start: "15:00",
      end: "16:00",
      name: "After-Hours"
    }])
    expect(cme.trading_days).toEqual([0, 1, 2, 3, 4, 6])
    const fx = tradingHoursOf("forex")!
    expect(fx.regular_hours).toMatchObject({ start: "17:15", end: "17:00" })
    expect(fx.trading_days).toEqual([0, 1, 2, 3, 4, 6])
  })
})

describe("trading-hours filter", () => {
  const m1 = timeframeOf("1m")
  const h1 = timeframeOf("1h")
  const d1 = timeframeOf("1d")

  it("asks for nothing without trading_hours_only", () => {
    expect(hoursOf({ tradingHoursOnly: false, includeExtended: true })).toBeUndefined()
    expect(hoursOf({ tradingHoursOnly: true, includeExtended: false })).toBe("regular")
    expect(hoursOf({ tradingHoursOnly: true, includeExtended: true })).toBe("extended")
  })

  it(
    "US equity minute bars: kept exactly when New York's wall clock is inside the session " +
      "(property, 2023–2026)",
    () => {
      const regular = sessionFilter("us-equity", m1, "regular")
      const extended = sessionFilter("us-equity", m1, "extended")
      const from = Date.UTC(2023, 0, 1), to = Date.UTC(2026, 11, 31)
      fc.assert(
        fc.property(fc.integer({ min: from / 60_000, max: to / 60_000 }), (minute) => {
          const t = minute * 60_000
          const { day, weekday, minute: m } = nyParts(t)
          const open = weekday !== "Sat" && weekday !== "Sun" && nyseHoliday(day) === undefined
          const early = nyseEarlyClose(day)
          expect(regular(t)).toBe(open && m >= 9 * 60 + 30 && m < (early ? 13 * 60 : 16 * 60))
          expect(extended(t)).toBe(open && m >= 4 * 60 && m < (early ? 17 * 60 : 20 * 60))
        }),
        { numRuns: 3000 }
      )
    }
  )

  it("session edges: 09:30 in, 16:00 out of the regular session (KTRDR kept 16:00), in the extended one", () => {
    const regular = sessionFilter("us-equity", h1, "regular")
    const extended = sessionFilter("us-equity", h1, "extended")
    expect(regular(ET("2025-01-06T09:30:00"))).toBe(true)
    expect(regular(ET("2025-01-06T09:00:00"))).toBe(false)
    expect(regular(ET("2025-01-06T16:00:00"))).toBe(false)
    expect(extended(ET("2025-01-06T16:00:00"))).toBe(true)
    expect(extended(ET("2025-01-06T20:00:00"))).toBe(false)
    // summer time: the same wall clock, an hour earlier in UTC
    expect(regular(EDT("2025-06-02T09:30:00"))).toBe(true)
    expect(regular(EDT("2025-06-02T09:29:00"))).toBe(false)
    // holidays have no session (2025-01-09, the national day of mourning)
    expect(regular(ET("2025-01-09T10:00:00"))).toBe(false)
  })

  it("daily bars (00:00Z) are kept on trading days — KTRDR's wall-clock test dropped them all", () => {
    const keep = sessionFilter("us-equity", d1, "regular")
    expect(keep(Date.UTC(2025, 0, 6))).toBe(true) // Monday
    expect(keep(Date.UTC(2025, 0, 4))).toBe(false) // Saturday
    expect(keep(Date.UTC(2025, 0, 9))).toBe(false) // closed
  })

  it("forex: the weekend and the daily 17:00–17:15 pause are outside the session", () => {
    const keep = sessionFilter("forex", h1, "regular")
    expect(keep(ET("2025-01-04T12:00:00"))).toBe(false) // Saturday
    expect(keep(ET("2025-01-05T17:00:00"))).toBe(false) // Sunday before the open
    expect(keep(ET("2025-01-05T17:15:00"))).toBe(true)
    expect(keep(ET("2025-01-07T03:00:00"))).toBe(true)
    expect(keep(ET("2025-01-10T17:00:00"))).toBe(false) // Friday close
  })

  it("bars in any order get the same answers as ascending ones (the last-session memo is only a shortcut)", () => {
    const times = Array.from({ length: 2000 }, (_, i) => ET("2025-01-02T00:00:00") + i * 17 * 60_000)
    const asc = sessionFilter("us-equity", m1, "regular")
    const expected = times.map((t) => asc(t))
    const shuffled = times.map((t, i) => [t, i] as const).sort((a, b) =>
      ((a[0] * 7919) % 1000) - ((b[0] * 7919) % 1000)
    )
    const fresh = sessionFilter("us-equity", m1, "regular")
    for (const [t, i] of shuffled) expect(fresh(t)).toBe(expected[i])
  })
})
