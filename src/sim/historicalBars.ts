/**
 * Answers a validated historical request with bars like IB's: only where the instrument trades, never
 * before its head timestamp or after `now`, aligned on the exchange's wall clock, and every size an
 * exact aggregate of the one-minute bars (or, below a minute, a split of them).
 */
import { calendarFor, type Hours, type Session, type TradingCalendar } from "../domain/calendar/index.ts"
import type { BarSize, Duration } from "../domain/IbHistoricalRules.ts"
import type { Instrument, WhatToShow } from "./instruments.ts"
import { minuteBars, roundTo, type MinuteBars } from "./minuteBars.ts"
import { mix, seedOf, uniform } from "./random.ts"
import { offsetMs, shiftDay } from "./zoneClock.ts"

export interface HistoricalQuery {
  readonly inst: Instrument
  /** Requested end, already resolved from "now" when empty. */
  readonly endMs: number
  readonly nowMs: number
  readonly duration: Duration
  readonly bar: BarSize
  readonly useRTH: boolean
  readonly whatToShow: WhatToShow
}

export interface Bar {
  /** Bar start (epoch ms) for intraday bars. */
  readonly t: number
  /** Trading day (ISO) for daily, weekly and monthly bars. */
  readonly day?: string
  o: number
  h: number
  l: number
  c: number
  v: number
  wap: number
  count: number
}

export interface HistoricalAnswer {
  readonly fromMs: number
  readonly toMs: number
  readonly bars: ReadonlyArray<Bar>
}

const MINUTE = 60_000

const hoursOf = (q: HistoricalQuery): Hours => (q.useRTH ? "regular" : "extended")

/** First instant with data: the head day's session open. */
export const headTimestampMs = (inst: Instrument, useRTH: boolean): number => {
  const cal = calendarFor(inst.calendar)
  const s = cal.session(inst.headDay, useRTH ? "regular" : "extended") ??
    cal.nextSession(Date.parse(`${inst.headDay}T00:00:00Z`), useRTH ? "regular" : "extended")
  return s ? s.open : Date.parse(`${inst.headDay}T00:00:00Z`)
}

/**
 * Where the request's window starts. `S` counts clock seconds; `D` counts trading sessions (so `1 D`
 * ending on a Saturday is Friday's session); `W`, `M`, `Y` count calendar time back from the last
 * session's trading day.
 */
export const windowStart = (cal: TradingCalendar, endMs: number, d: Duration, hours: Hours): number => {
  if (d.unit === "S") return endMs - d.n * 1000
  if (d.unit === "D") return cal.previousSessions(endMs, d.n, hours)[0]?.open ?? endMs
  const last = cal.previousSessions(endMs, 1, hours)[0]
  if (!last) return endMs
  const cutoff = d.unit === "W"
    ? shiftDay(last.tradingDay, "day", -7 * d.n)
    : shiftDay(last.tradingDay, d.unit === "M" ? "month" : "year", -d.n)
  const first = cal.sessionsBetween(Date.parse(`${cutoff}T00:00:00Z`), endMs, hours).find((s) => s.tradingDay > cutoff)
  return first?.open ?? endMs
}

const range = (
  mb: MinuteBars,
  hours: Hours
): readonly [number, number] => (hours === "regular" ? [mb.regFrom, mb.regTo] : [0, mb.n])

const newBar = (t: number, day?: string): Bar => ({
  t,
  ...(day === undefined ? {} : { day }),
  o: 0,
  h: -Infinity,
  l: Infinity,
  c: 0,
  v: 0,
  wap: 0,
  count: 0
})

/** Folds one base bar into an aggregate; WAP accumulates as wap × volume until `finish`. */
const fold = (
  agg: Bar,
  first: boolean,
  o: number,
  h: number,
  l: number,
  c: number,
  v: number,
  wap: number,
  count: number
) => {
  if (first) agg.o = o
  if (h > agg.h) agg.h = h
  if (l < agg.l) agg.l = l
  agg.c = c
  agg.v += v
  agg.wap += wap * v
  agg.count += count
}

const finish = (b: Bar, tick: number): Bar => {
  b.wap = b.v > 0 ? roundTo(b.wap / b.v, tick / 100) : 0
  return b
}

export const generateBars = (q: HistoricalQuery): HistoricalAnswer => {
  const cal = calendarFor(q.inst.calendar)
  const hours = hoursOf(q)
  const limit = Math.min(q.endMs, q.nowMs, q.inst.lastDataMs ?? Infinity)
  const from = Math.max(windowStart(cal, q.endMs, q.duration, hours), headTimestampMs(q.inst, q.useRTH))
  if (from >= limit) return { fromMs: from, toMs: q.endMs, bars: [] }
  const bars = q.bar.kind === "intraday"
    ? q.bar.seconds < 60
      ? secondBars(q, cal, hours, from, limit)
      : minuteAggregates(q, cal, hours, from, limit)
    : periodBars(q, cal, hours, from, limit)
  return { fromMs: from, toMs: q.endMs, bars: bars.map((b) => transform(b, q.inst, q.whatToShow)) }
}

const minuteAggregates = (
  q: HistoricalQuery,
  cal: TradingCalendar,
  hours: Hours,
  from: number,
  limit: number
): Array<Bar> => {
  const out: Array<Bar> = []
  const size = q.bar.seconds * 1000
  const zone = cal.timeZone
  for (const s of cal.sessionsBetween(from, limit, hours)) {
    const mb = minuteBars(q.inst, s.tradingDay)
    if (!mb) continue
    const [lo, hi] = range(mb, hours)
    // Sessions rarely span a DST change; when they don't, one offset serves every minute.
    const off0 = offsetMs(zone, s.open)
    const steady = off0 === offsetMs(zone, s.close)
    let agg: Bar | undefined
    let key = NaN
    for (let k = lo; k < hi; k++) {
      const t = mb.start + k * MINUTE
      if (t >= limit) break
      const kk = Math.floor((t + (steady ? off0 : offsetMs(zone, t))) / size)
      if (kk !== key) {
        if (agg) out.push(finish(agg, q.inst.minTick))
        key = kk
        // A bucket belongs to the window when its first minute does; otherwise skip it whole.
        agg = t >= from ? newBar(t) : undefined
        if (agg) fold(agg, true, mb.o[k]!, mb.h[k]!, mb.l[k]!, mb.c[k]!, mb.v[k]!, mb.wap[k]!, mb.count[k]!)
        continue
      }
      if (agg) fold(agg, false, mb.o[k]!, mb.h[k]!, mb.l[k]!, mb.c[k]!, mb.v[k]!, mb.wap[k]!, mb.count[k]!)
    }
    if (agg) out.push(finish(agg, q.inst.minTick))
  }
  return out
}

/**
 * Splits one minute bar into 60 one-second bars that aggregate back to it exactly: a clamped walk from
 * the minute's open to its close, one second touching the high and one the low, volume split in integers.
 */
const splitMinute = (q: HistoricalQuery, mb: MinuteBars, k: number, t: number): Array<Bar> => {
  const tick = q.inst.minTick
  const seed = mix(seedOf(q.inst.pathKey), Math.floor(t / MINUTE))
  const o = mb.o[k]!, h = mb.h[k]!, l = mb.l[k]!, c = mb.c[k]!
  const pts = new Float64Array(61)
  pts[0] = o
  pts[60] = c
  const step = (h - l) / 4
  for (let j = 1; j < 60; j++) {
    const target = o + ((c - o) * j) / 60
    const wiggle = (uniform(seed, j) - 0.5) * 2 * step
    pts[j] = Math.min(h, Math.max(l, roundTo(target + wiggle, tick)))
  }
  const jh = Math.floor(uniform(seed, 100) * 60)
  const jl = Math.floor(uniform(seed, 101) * 60)
  const weights = Array.from({ length: 60 }, (_, j) => uniform(seed, 200 + j))
  const total = weights.reduce((a, b) => a + b, 0)
  const vol = splitInt(mb.v[k]!, weights, total)
  const cnt = splitInt(mb.count[k]!, weights, total)
  const out: Array<Bar> = []
  for (let j = 0; j < 60; j++) {
    const so = pts[j]!, sc = pts[j + 1]!
    const b = newBar(t + j * 1000)
    b.o = so
    b.c = sc
    b.h = j === jh ? h : Math.max(so, sc)
    b.l = j === jl ? l : Math.min(so, sc)
    b.v = vol[j]!
    b.count = cnt[j]!
    b.wap = vol[j]! > 0 ? roundTo((b.h + b.l + b.c) / 3, tick / 100) : 0
    out.push(b)
  }
  return out
}

/** Integer parts proportional to weights that sum exactly to `total`. */
const splitInt = (value: number, weights: ReadonlyArray<number>, sum: number): Array<number> => {
  const parts = weights.map((w) => Math.floor((value * w) / sum))
  let rest = value - parts.reduce((a, b) => a + b, 0)
  for (let j = 0; rest > 0; j = (j + 1) % parts.length, rest--) parts[j]! += 1
  return parts
}

const secondBars = (
  q: HistoricalQuery,
  cal: TradingCalendar,
  hours: Hours,
  from: number,
  limit: number
): Array<Bar> => {
  const out: Array<Bar> = []
  const size = q.bar.seconds * 1000
  for (const s of cal.sessionsBetween(from, limit, hours)) {
    const mb = minuteBars(q.inst, s.tradingDay)
    if (!mb) continue
    const [lo, hi] = range(mb, hours)
    const first = Math.max(lo, Math.floor((from - mb.start) / MINUTE))
    for (let k = first; k < hi; k++) {
      const t = mb.start + k * MINUTE
      if (t >= limit) break
      let agg: Bar | undefined
      for (const sec of splitMinute(q, mb, k, t)) {
        if (sec.t >= limit) break
        if (sec.t % size === 0) {
          if (agg) out.push(finish(agg, q.inst.minTick))
          agg = sec.t >= from ? newBar(sec.t) : undefined
          if (agg) fold(agg, true, sec.o, sec.h, sec.l, sec.c, sec.v, sec.wap, sec.count)
        } else if (agg) fold(agg, false, sec.o, sec.h, sec.l, sec.c, sec.v, sec.wap, sec.count)
      }
      if (agg) out.push(finish(agg, q.inst.minTick))
    }
  }
  return out
}

/** One bar per session, cached once the session is complete (a year of daily bars is 252 of these). */
const dailyCache = new Map<string, Bar>()

const sessionBar = (q: HistoricalQuery, s: Session, hours: Hours, limit: number): Bar | undefined => {
  const complete = s.close <= limit
  const key = `${q.inst.pathKey}|${s.tradingDay}|${hours}`
  if (complete) {
    const hit = dailyCache.get(key)
    if (hit) return { ...hit }
  }
  const mb = minuteBars(q.inst, s.tradingDay)
  if (!mb) return undefined
  const [lo, hi] = range(mb, hours)
  const agg = newBar(s.open, s.tradingDay)
  let any = false
  for (let k = lo; k < hi; k++) {
    if (mb.start + k * MINUTE >= limit) break
    fold(agg, !any, mb.o[k]!, mb.h[k]!, mb.l[k]!, mb.c[k]!, mb.v[k]!, mb.wap[k]!, mb.count[k]!)
    any = true
  }
  if (!any) return undefined
  finish(agg, q.inst.minTick)
  if (complete) {
    if (dailyCache.size > 100_000) dailyCache.clear()
    dailyCache.set(key, { ...agg })
  }
  return agg
}

/** Monday of the ISO week, or the first of the month: the period a weekly or monthly bar covers. */
const periodKey = (day: string, kind: "week" | "month"): string => {
  if (kind === "month") return day.slice(0, 7)
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay()
  return shiftDay(day, "day", -((dow + 6) % 7))
}

const periodBars = (
  q: HistoricalQuery,
  cal: TradingCalendar,
  hours: Hours,
  from: number,
  limit: number
): Array<Bar> => {
  const kind = q.bar.kind
  const out: Array<Bar> = []
  // Weekly and monthly bars are whole periods: reach back to the start of the first period.
  let scanFrom = from
  if (kind === "week" || kind === "month") {
    const first = cal.sessionsBetween(from, limit, hours)[0]
    if (first) scanFrom = Date.parse(`${periodKey(first.tradingDay, kind)}T00:00:00Z`) - 86_400_000
  }
  let agg: Bar | undefined
  let key = ""
  let firstKey: string | undefined
  for (const s of cal.sessionsBetween(scanFrom, limit, hours)) {
    if (s.open < headTimestampMs(q.inst, q.useRTH)) continue
    // The scan starts a day early; a session of the period before the first one is not part of the answer.
    if (kind !== "day") {
      const k = periodKey(s.tradingDay, kind as "week" | "month")
      firstKey ??= periodKey(
        cal.sessionsBetween(from, limit, hours)[0]?.tradingDay ?? s.tradingDay,
        kind as "week" | "month"
      )
      if (k < firstKey) continue
    }
    if (kind === "day" && s.close <= from) continue
    const b = sessionBar(q, s, hours, limit)
    if (!b) continue
    if (kind === "day") {
      out.push(b)
      continue
    }
    const k = periodKey(s.tradingDay, kind as "week" | "month")
    if (k !== key) {
      if (agg) out.push(finish(agg, q.inst.minTick))
      key = k
      agg = newBar(b.t, b.day)
      fold(agg, true, b.o, b.h, b.l, b.c, b.v, b.wap, b.count)
    } else if (agg) fold(agg, false, b.o, b.h, b.l, b.c, b.v, b.wap, b.count)
  }
  if (agg) out.push(finish(agg, q.inst.minTick))
  return out
}

/** Quote-based bars derive from the trade path; they carry no volume, WAP or count (IB sends -1). */
const transform = (b: Bar, inst: Instrument, w: WhatToShow): Bar => {
  const half = Math.max(1, Math.round(inst.spreadTicks / 2)) * inst.minTick
  const noVolume = w !== "TRADES" || inst.dailyVolume === 0
  if (w === "TRADES" && !noVolume) return b
  const r = (x: number) => roundTo(x, inst.minTick)
  const out: Bar = { ...b }
  if (w === "BID") Object.assign(out, { o: r(b.o - half), h: r(b.h - half), l: r(b.l - half), c: r(b.c - half) })
  if (w === "ASK") Object.assign(out, { o: r(b.o + half), h: r(b.h + half), l: r(b.l + half), c: r(b.c + half) })
  if (w === "BID_ASK") Object.assign(out, { o: r(b.o - half), h: r(b.h + half), l: r(b.l - half), c: r(b.c + half) })
  if (noVolume) Object.assign(out, { v: -1, wap: -1, count: -1 })
  return out
}
