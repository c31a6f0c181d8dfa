import fc from "fast-check"
import { DateTime } from "luxon"
import { describe, expect, it } from "vitest"
import {
  CALENDAR_IDS,
  calendarFor,
  easterSunday,
  nyseEarlyClose,
  nyseEarlyCloses,
  nyseHoliday,
  nyseHolidays,
  type Hours
} from "../../src/domain/calendar/index.ts"

const utc = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi)
const equity = calendarFor("us-equity")
const cme = calendarFor("cme-equity-futures")
const forex = calendarFor("forex")

describe("NYSE holidays", () => {
  it("computes Easter with the Gregorian algorithm", () => {
    expect(easterSunday(1970)).toBe("1970-03-29")
    expect(easterSunday(2000)).toBe("2000-04-23")
    expect(easterSunday(2024)).toBe("2024-03-31")
    expect(easterSunday(2025)).toBe("2025-04-20")
    expect(easterSunday(2038)).toBe("2038-04-25")
  })

  it("lists 2024's holidays and early closes", () => {
    expect(nyseHolidays(2024).map((h) => h.day)).toEqual([
      "2024-01-01",
      "2024-01-15",
      "2024-02-19",
      "2024-03-29",
      "2024-05-27",
      "2024-06-19",
      "2024-07-04",
      "2024-09-02",
      "2024-11-28",
      "2024-12-25"
    ])
    expect(nyseEarlyCloses(2024)).toEqual(["2024-07-03", "2024-11-29", "2024-12-24"])
  })

  it("applies the observance rules", () => {
    expect(nyseHoliday("2022-06-20")).toBe("Juneteenth")
    expect(nyseHoliday("2023-06-19")).toBe("Juneteenth")
    expect(nyseHoliday("2021-06-18")).toBeUndefined()
    expect(nyseHoliday("2021-06-21")).toBeUndefined()
    expect(nyseHoliday("2021-12-31")).toBeUndefined() // New Year 2022 is a Saturday: not observed
    expect(nyseHoliday("2022-12-26")).toBe("Christmas")
    expect(nyseHoliday("2026-07-03")).toBe("Independence Day")
    expect(nyseEarlyClose("2026-07-03")).toBe(false)
    expect(nyseHoliday("2025-01-09")).toMatch(/Carter/)
    expect(nyseHoliday("2012-10-30")).toBe("Hurricane Sandy")
    expect(nyseHoliday("1997-01-20")).toBeUndefined() // MLK day only from 1998
    expect(nyseHoliday("1998-01-19")).toBe("Martin Luther King Jr. Day")
  })
})

describe("us-equity", () => {
  it("is closed on Good Friday 2024", () => {
    expect(equity.session("2024-03-29", "regular")).toBeUndefined()
    expect(equity.session("2024-03-29", "extended")).toBeUndefined()
    expect(equity.closedReason("2024-03-29")).toEqual({ reason: "holiday", name: "Good Friday" })
    expect(equity.closedReason("2024-03-30")).toEqual({ reason: "weekend" })
    expect(equity.closedReason("2024-03-28")).toBeUndefined()
  })

  it("closes early at 13:00 New York", () => {
    expect(equity.session("2024-11-29", "regular")).toEqual({
      tradingDay: "2024-11-29",
      open: utc(2024, 11, 29, 14, 30),
      close: utc(2024, 11, 29, 18),
      earlyClose: true
    })
    expect(equity.session("2024-11-29", "extended")?.close).toBe(utc(2024, 11, 29, 22))
    expect(equity.session("2024-12-24", "regular")?.close).toBe(utc(2024, 12, 24, 18))
    expect(equity.session("2023-07-03", "regular")).toMatchObject({ close: utc(2023, 7, 3, 17), earlyClose: true })
    expect(equity.session("2024-11-27", "regular")).toMatchObject({ close: utc(2024, 11, 27, 21), earlyClose: false })
  })

  it("follows holiday observance", () => {
    expect(equity.session("2022-06-20", "regular")).toBeUndefined()
    expect(equity.session("2023-06-19", "regular")).toBeUndefined()
    expect(equity.session("2021-06-18", "regular")).toBeDefined()
    expect(equity.session("2021-12-31", "regular")).toBeDefined()
    expect(equity.session("2022-12-26", "regular")).toBeUndefined()
    expect(equity.session("2026-07-03", "regular")).toBeUndefined()
    expect(equity.session("2025-01-09", "regular")).toBeUndefined()
  })

  it("tracks DST", () => {
    expect(equity.session("2024-03-08", "regular")?.open).toBe(utc(2024, 3, 8, 14, 30))
    expect(equity.session("2024-03-11", "regular")?.open).toBe(utc(2024, 3, 11, 13, 30))
    expect(equity.session("2024-03-11", "extended")).toMatchObject({
      open: utc(2024, 3, 11, 8),
      close: utc(2024, 3, 12)
    })
    expect(equity.session("2024-11-04", "regular")?.open).toBe(utc(2024, 11, 4, 14, 30))
  })

  it("has the real number of trading days", () => {
    const count = (y: number) => equity.sessionsBetween(utc(y, 1, 1), utc(y + 1, 1, 1), "regular").length
    expect([count(2022), count(2023), count(2024)]).toEqual([251, 250, 252])
  })

  it("looks back and ahead across weekends", () => {
    const saturday = utc(2024, 3, 9, 15)
    const prev = equity.previousSessions(saturday, 3, "regular")
    expect(prev.map((s) => s.tradingDay)).toEqual(["2024-03-06", "2024-03-07", "2024-03-08"])
    expect(equity.nextSession(saturday, "regular")?.tradingDay).toBe("2024-03-11")
    expect(equity.sessionAt(saturday, "extended")).toBeUndefined()
    // The session containing the instant counts as one.
    expect(equity.previousSessions(utc(2024, 3, 8, 15), 1, "regular")[0]?.tradingDay).toBe("2024-03-08")
    expect(equity.nextSession(utc(2024, 3, 8, 15), "regular")?.tradingDay).toBe("2024-03-08")
  })

  it("rejects malformed days", () => {
    expect(() => equity.session("2024-02-30", "regular")).toThrow(RangeError)
    expect(() => equity.closedReason("20240301")).toThrow(RangeError)
  })
})

describe("us-index", () => {
  it("has extended equal to regular", () => {
    const index = calendarFor("us-index")
    expect(index.session("2024-03-11", "extended")).toEqual(index.session("2024-03-11", "regular"))
    expect(index.session("2024-12-24", "extended")).toMatchObject({ close: utc(2024, 12, 24, 18), earlyClose: true })
    expect(index.ibTimeZoneId).toBe("US/Eastern")
  })
})

describe("cme-equity-futures", () => {
  it("opens Sunday 17:00 CT for Monday, across the DST switch", () => {
    expect(cme.session("2024-03-11", "extended")).toEqual({
      tradingDay: "2024-03-11",
      open: utc(2024, 3, 10, 22),
      close: utc(2024, 3, 11, 21),
      earlyClose: false
    })
    expect(cme.session("2024-03-11", "regular")).toMatchObject({
      open: utc(2024, 3, 11, 13, 30),
      close: utc(2024, 3, 11, 20)
    })
    expect(cme.session("2024-11-04", "extended")?.open).toBe(utc(2024, 11, 3, 23))
    expect(cme.sessionAt(utc(2024, 3, 10, 22), "extended")?.tradingDay).toBe("2024-03-11")
    expect(cme.ibTimeZoneId).toBe("US/Central")
  })

  it("halts daily 16:00–17:00 CT", () => {
    expect(cme.sessionAt(utc(2024, 3, 12, 21, 30), "extended")).toBeUndefined()
    expect(cme.sessionAt(utc(2024, 3, 12, 20, 59), "extended")?.tradingDay).toBe("2024-03-12")
    expect(cme.sessionAt(utc(2024, 3, 12, 22), "extended")?.tradingDay).toBe("2024-03-13")
  })

  it("shortens NYSE holidays and half days, closes fully on Good Friday", () => {
    expect(cme.session("2024-01-15", "extended")).toMatchObject({ close: utc(2024, 1, 15, 18), earlyClose: true })
    expect(cme.session("2024-01-15", "regular")).toMatchObject({
      open: utc(2024, 1, 15, 14, 30),
      close: utc(2024, 1, 15, 18)
    })
    expect(cme.closedReason("2024-01-15")).toBeUndefined()
    expect(cme.session("2024-11-29", "extended")).toMatchObject({ close: utc(2024, 11, 29, 18, 15), earlyClose: true })
    expect(cme.session("2024-03-29", "extended")).toBeUndefined()
    expect(cme.closedReason("2024-03-29")).toEqual({ reason: "holiday", name: "Good Friday" })
    expect(cme.nextSession(utc(2024, 3, 28, 22), "extended")).toMatchObject({
      tradingDay: "2024-04-01",
      open: utc(2024, 3, 31, 22)
    })
  })
})

describe("forex", () => {
  it("opens Sunday 17:15 New York, across the DST switch", () => {
    expect(forex.session("2024-03-11", "regular")).toEqual({
      tradingDay: "2024-03-11",
      open: utc(2024, 3, 10, 21, 15),
      close: utc(2024, 3, 11, 21),
      earlyClose: false
    })
    expect(forex.session("2024-11-04", "extended")?.open).toBe(utc(2024, 11, 3, 22, 15))
  })

  it("does not trade on Saturday, Christmas or New Year's Day", () => {
    const saturday = forex.sessionsBetween(utc(2024, 3, 9, 5), utc(2024, 3, 10, 5), "regular")
    expect(saturday).toEqual([])
    expect(forex.closedReason("2024-03-09")).toEqual({ reason: "weekend" })
    expect(forex.session("2024-12-25", "regular")).toBeUndefined()
    expect(forex.closedReason("2025-01-01")).toEqual({ reason: "holiday", name: "New Year's Day" })
    expect(forex.closedReason("2022-12-25")).toEqual({ reason: "weekend" })
    expect(forex.session("2022-12-26", "regular")).toBeDefined()
  })
})

const MIN = utc(1995, 1, 1)
const MAX = utc(2035, 1, 1)
const calendarArb = fc.constantFrom(...CALENDAR_IDS)
const hoursArb = fc.constantFrom<Hours>("regular", "extended")
const minuteArb = fc.integer({ min: MIN / 60_000, max: MAX / 60_000 }).map((m) => m * 60_000)
const jitterArb = fc.integer({ min: 0, max: 59_999 })
const spanArb = fc.integer({ min: 1, max: 40 * 86_400_000 })
const fractionArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

describe("properties", () => {
  it("sessionsBetween is ascending, disjoint, minute-aligned and agrees with sessionAt", () => {
    fc.assert(
      fc.property(calendarArb, hoursArb, minuteArb, spanArb, fractionArb, (id, hours, from, span, frac) => {
        const cal = calendarFor(id)
        const sessions = cal.sessionsBetween(from, from + span, hours)
        sessions.forEach((s, i) => {
          expect(s.open).toBeLessThan(s.close)
          expect(s.open % 60_000).toBe(0)
          expect(s.close % 60_000).toBe(0)
          expect(s.close).toBeGreaterThan(from)
          expect(s.open).toBeLessThan(from + span)
          const prev = sessions[i - 1]
          if (prev !== undefined) expect(prev.close).toBeLessThanOrEqual(s.open)
          for (const t of [s.open, s.close - 1, s.open + Math.floor(frac * (s.close - s.open))]) {
            expect(cal.sessionAt(t, hours)).toEqual(s)
          }
          expect(cal.sessionAt(s.close, hours)?.tradingDay).not.toBe(s.tradingDay)
          expect(cal.session(s.tradingDay, hours)).toEqual(s)
        })
      }),
      { numRuns: 300 }
    )
  })

  it("sessionAt, previousSessions and nextSession agree with sessionsBetween", () => {
    fc.assert(
      fc.property(
        calendarArb,
        hoursArb,
        minuteArb,
        jitterArb,
        fc.integer({ min: 1, max: 5 }),
        (id, hours, minute, jitter, count) => {
          const cal = calendarFor(id)
          const ms = minute + jitter
          expect(cal.sessionAt(ms, hours)).toEqual(cal.sessionsBetween(ms, ms + 1, hours)[0])
          expect(cal.nextSession(ms, hours)).toEqual(cal.sessionsBetween(ms, ms + 16 * 86_400_000, hours)[0])
          expect(cal.previousSessions(ms, count, hours)).toEqual(
            cal.sessionsBetween(ms - 30 * 86_400_000, ms, hours).slice(-count)
          )
        }
      ),
      { numRuns: 500 }
    )
  })

  it("sessions start and end at the exchange's wall-clock times (checked against luxon)", () => {
    const expected: Record<string, { open: string; close: string; prevDay: boolean }> = {
      "us-equity:regular": { open: "09:30", close: "16:00", prevDay: false },
      "us-equity:extended": { open: "04:00", close: "20:00", prevDay: false },
      "cme-equity-futures:regular": { open: "08:30", close: "15:00", prevDay: false },
      "cme-equity-futures:extended": { open: "17:00", close: "16:00", prevDay: true },
      "forex:regular": { open: "17:15", close: "17:00", prevDay: true }
    }
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(expected)), fc.integer({ min: 0, max: 47_400 }), (key, dayNumber) => {
        const [id, hours] = key.split(":") as [Parameters<typeof calendarFor>[0], Hours]
        const cal = calendarFor(id)
        const day = DateTime.fromMillis(utc(1970, 1, 1) + dayNumber * 86_400_000, { zone: "UTC" }).toISODate() ?? ""
        const s = cal.session(day, hours)
        if (s === undefined || s.earlyClose) return
        const want = expected[key]!
        const open = DateTime.fromMillis(s.open, { zone: cal.timeZone })
        const close = DateTime.fromMillis(s.close, { zone: cal.timeZone })
        expect(open.toFormat("HH:mm")).toBe(want.open)
        expect(close.toFormat("HH:mm")).toBe(want.close)
        expect(close.toISODate()).toBe(day)
        expect(open.toISODate()).toBe(want.prevDay ? close.minus({ days: 1 }).toISODate() : day)
      }),
      { numRuns: 1000 }
    )
  })
})
