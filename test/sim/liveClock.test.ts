/**
 * The simulated clock (`clockStart` / `clockSpeed`, the CLI's --clock / --clock-speed), keepUpToDate streams
 * that move with it, and whatToShow=SCHEDULE. An open market runs in a second or two of real time.
 */
import { EventName } from "@stoqey/ib"
import { afterEach, describe, expect, it } from "vitest"
import { AAPL, bar, connectRaw, outcome, Resources, waitFor, what } from "./support.ts"

const res = new Resources()
afterEach(() => res.closeAll())

interface Update {
  readonly time: string
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
  readonly count: number
}

type RawClient = Awaited<ReturnType<typeof connectRaw>>

/** The HISTORICAL_DATA_UPDATE messages of one request, as they arrive. */
const updatesOf = (raw: RawClient, id: number): Array<Update> => {
  const updates: Array<Update> = []
  raw.api.on(
    EventName.historicalDataUpdate,
    (
      reqId: number,
      time: string,
      open: number,
      high: number,
      low: number,
      close: number,
      volume: number,
      count: number
    ) => void (reqId === id && updates.push({ time, open, high, low, close, volume, count }))
  )
  return updates
}

describe("a simulated clock", () => {
  it(
    "keepUpToDate follows it: the live bar moves, a new bar starts at each boundary, values match the " +
      "minute data, count is the trade count, cancel stops it",
    async () => {
      // Tuesday 2024-03-05 10:29:30 New York, one simulated minute per real second, updates every 100 ms.
      const sim = await res.sim({ clockStart: Date.UTC(2024, 2, 5, 15, 29, 30), clockSpeed: 60, timeScale: 50 })
      const raw = await connectRaw(res, sim.port, 1)
      const updates = updatesOf(raw, 3)
      raw.api.reqHistoricalData(3, AAPL, "", "1800 S", bar("1 min"), what("TRADES"), 1, 1, true)
      expect((await outcome(raw, 3))._tag).toBe("bars")
      await waitFor("updates over three bar boundaries", () => new Set(updates.map((u) => u.time)).size, (n) => n >= 4)
      raw.api.cancelHistoricalData(3)
      await waitFor("stream closed", () => sim.stats().openHistorical, (n) => n === 0)
      const seen = updates.length
      const times = [...new Set(updates.map((u) => u.time))]
      // Bar times only move forward, one minute at a time.
      expect([...times].sort()).toEqual(times)
      const minutes = times.map((t) => Number(t.slice(9, 11)) * 60 + Number(t.slice(12, 14)))
      for (let k = 1; k < minutes.length; k++) expect(minutes[k]! - minutes[k - 1]!).toBe(1)
      // Every update equals the bar a later historical request returns for that minute.
      raw.api.reqHistoricalData(
        4,
        AAPL,
        "20240305 11:00:00 US/Eastern",
        "1 D",
        bar("1 min"),
        what("TRADES"),
        1,
        1,
        false
      )
      const hist = await outcome(raw, 4)
      if (hist._tag !== "bars") throw new Error("no bars")
      const byTime = new Map(hist.bars.map((b) => [b.time, b]))
      for (const u of updates) {
        const b = byTime.get(u.time)!
        expect([u.open, u.high, u.low, u.close, u.volume, u.count]).toEqual([
          b.open,
          b.high,
          b.low,
          b.close,
          b.volume,
          b.count
        ])
        expect(u.count).toBeGreaterThan(0)
      }
      await new Promise((r) => setTimeout(r, 300))
      expect(updates.length).toBeLessThanOrEqual(seen + 1) // at most one already on the wire
    }
  )

  it("a 5-minute live bar grows within its period: same start, widening range, rising volume", async () => {
    const sim = await res.sim({ clockStart: Date.UTC(2024, 2, 5, 15, 30, 0), clockSpeed: 60, timeScale: 50 })
    const raw = await connectRaw(res, sim.port, 1)
    const updates = updatesOf(raw, 5)
    raw.api.reqHistoricalData(5, AAPL, "", "1800 S", bar("5 mins"), what("TRADES"), 1, 1, true)
    await waitFor("three minutes of updates", () => new Set(updates.map((u) => u.volume)).size, (n) => n >= 3)
    raw.api.cancelHistoricalData(5)
    const same = updates.filter((u) => u.time === updates[0]!.time)
    expect(same.length).toBeGreaterThanOrEqual(3)
    for (let k = 1; k < same.length; k++) {
      expect(same[k]!.open).toBe(same[0]!.open)
      expect(same[k]!.high).toBeGreaterThanOrEqual(same[k - 1]!.high)
      expect(same[k]!.low).toBeLessThanOrEqual(same[k - 1]!.low)
      expect(same[k]!.volume).toBeGreaterThanOrEqual(same[k - 1]!.volume)
      expect(same[k]!.count).toBeGreaterThanOrEqual(same[k - 1]!.count)
    }
  })

  it("historical answers and head timestamps follow the clock", async () => {
    const sim = await res.sim({ clockStart: Date.UTC(2024, 2, 5, 15, 0), clockSpeed: 1 })
    const raw = await connectRaw(res, sim.port, 1)
    raw.api.reqHistoricalData(6, AAPL, "", "1 D", bar("1 hour"), what("TRADES"), 1, 1, false)
    const o = await outcome(raw, 6)
    // 10:00:00 New York and a few real milliseconds: the 09:30 bar, and the 10:00 bar that has just begun.
    expect(o._tag === "bars" ? o.bars.map((b) => b.time) : o).toEqual([
      "20240305 09:30:00 US/Eastern",
      "20240305 10:00:00 US/Eastern"
    ])
    const before = await res.sim({ clockStart: Date.UTC(1975, 0, 2, 15, 0) })
    const old = await connectRaw(res, before.port, 1)
    const heads: Array<string> = []
    old.api.on(EventName.headTimestamp, (_id: number, ts: string) => void heads.push(ts))
    old.api.reqHeadTimestamp(7, AAPL, what("TRADES"), true, 1)
    await waitFor("162 before AAPL listed", () => old.errors.map((e) => e.code), (cs) => cs.includes(162))
    expect(heads).toEqual([])
  })
})

describe("whatToShow=SCHEDULE", () => {
  it("answers HISTORICAL_SCHEDULE with the calendar's sessions (a holiday skipped)", async () => {
    const sim = await res.sim()
    const raw = await connectRaw(res, sim.port, 1)
    const got: Array<{ start: string; end: string; tz: string; sessions: Array<Record<string, string>> }> = []
    // IBApi's typings list no overload for this event; the emitter delivers it all the same.
    const emitter = raw.api as unknown as NodeJS.EventEmitter
    emitter.on(
      EventName.historicalSchedule,
      (_id: number, start: string, end: string, tz: string, sessions: Array<Record<string, string>>) =>
        void got.push({ start, end, tz, sessions })
    )
    raw.api.reqHistoricalData(
      8,
      AAPL,
      "20240221 16:00:00 US/Eastern",
      "5 D",
      bar("1 day"),
      what("SCHEDULE"),
      1,
      1,
      false
    )
    await waitFor("schedule", () => got.length, (n) => n === 1)
    expect(got[0]!.tz).toBe("US/Eastern")
    expect(got[0]!.sessions.map((s) => s["refDate"])).toEqual([
      "20240214",
      "20240215",
      "20240216",
      "20240220",
      "20240221"
    ])
    expect(got[0]!.sessions[0]).toEqual({
      startDateTime: "20240214-09:30:00",
      endDateTime: "20240214-16:00:00",
      refDate: "20240214"
    })
    expect(got[0]!.start).toBe("20240214-09:30:00")
    expect(got[0]!.end).toBe("20240221-16:00:00")
    expect(raw.errors).toEqual([])
  })
})
