/**
 * One trading session of one-minute bars, generated as a Brownian bridge from the previous session's
 * close to this session's close (dailyPath). Every other bar size is aggregated from these (or, below
 * a minute, split from them), which is what makes bars of different sizes agree exactly.
 */
import { calendarFor } from "../domain/calendar/index.ts"
import { dailyLevels } from "./dailyPath.ts"
import type { Instrument } from "./instruments.ts"
import { gauss, seedOf, uniform } from "./random.ts"

export interface MinuteBars {
  /** Epoch ms of minute 0 (the extended session's open). */
  readonly start: number
  readonly n: number
  /** Index range [regFrom, regTo) of the regular-hours minutes. */
  readonly regFrom: number
  readonly regTo: number
  readonly o: Float64Array
  readonly h: Float64Array
  readonly l: Float64Array
  readonly c: Float64Array
  readonly v: Float64Array
  readonly wap: Float64Array
  readonly count: Float64Array
}

const MINUTE = 60_000
const CACHE_LIMIT = 512
const cache = new Map<string, MinuteBars | null>()

/**
 * Rounds to a multiple of `tick` as the double nearest the decimal (n / 100, not n × 0.01), so that
 * `String(price)` is already IB's short form ("324.71", never "324.71000000000004").
 */
export const roundTo = (x: number, tick: number): number => {
  const inv = Math.round(1 / tick)
  return Math.round(x * inv) / inv
}

/** Intraday volume is U-shaped in regular hours and thin outside them. */
const volumeWeight = (k: number, reg: number, regFrom: number, regTo: number): number => {
  if (k < regFrom || k >= regTo) return 0.03
  const x = (k - regFrom + 0.5) / reg
  return 0.55 + 1.8 * (2 * x - 1) ** 2
}

const build = (inst: Instrument, tradingDay: string): MinuteBars | null => {
  const cal = calendarFor(inst.calendar)
  const ext = cal.session(tradingDay, "extended")
  const reg = cal.session(tradingDay, "regular")
  if (!ext || !reg) return null
  const levels = dailyLevels(inst, tradingDay)
  if (!levels) return null
  const n = Math.round((ext.close - ext.open) / MINUTE)
  const regFrom = Math.round((reg.open - ext.open) / MINUTE)
  const regTo = Math.round((reg.close - ext.open) / MINUTE)
  const seed = seedOf(`${inst.pathKey}|${tradingDay}`)
  const tick = inst.minTick
  // Per-minute volatility so that a whole session carries roughly one day's volatility.
  const sigma = inst.annualVol / Math.sqrt(252 * n)
  const logOpen = Math.log(levels.prev) + 0.25 * sigma * Math.sqrt(n) * gauss(seed, 0x7fffffff)
  const logClose = Math.log(levels.close)

  const walk = new Float64Array(n + 1)
  for (let k = 1; k <= n; k++) walk[k] = walk[k - 1]! + sigma * gauss(seed, k)
  const drift = walk[n]!
  const price = new Float64Array(n + 1)
  for (let k = 0; k <= n; k++) {
    const t = k / n
    price[k] = roundTo(Math.exp(logOpen + (logClose - logOpen) * t + walk[k]! - t * drift), tick)
  }

  const o = new Float64Array(n), h = new Float64Array(n), l = new Float64Array(n), c = new Float64Array(n)
  const v = new Float64Array(n), wap = new Float64Array(n), count = new Float64Array(n)
  const regMinutes = Math.max(1, regTo - regFrom)
  const perMinute = inst.dailyVolume / regMinutes
  for (let k = 0; k < n; k++) {
    const op = price[k]!, cl = price[k + 1]!
    const wick = sigma * 0.6
    const hi = Math.max(op, cl, roundTo(Math.max(op, cl) * (1 + wick * Math.abs(gauss(seed, n + 2 * k + 1))), tick))
    const lo = Math.min(op, cl, roundTo(Math.min(op, cl) * (1 - wick * Math.abs(gauss(seed, n + 2 * k + 2))), tick))
    o[k] = op
    h[k] = hi
    l[k] = lo
    c[k] = cl
    if (inst.dailyVolume > 0) {
      const vol = Math.round(
        perMinute * volumeWeight(k, regMinutes, regFrom, regTo) * Math.exp(0.5 * gauss(seed, 3 * n + k) - 0.125)
      )
      v[k] = vol
      count[k] = vol === 0 ? 0 : Math.max(1, Math.round(vol / (20 + 30 * uniform(seed, 4 * n + k))))
      wap[k] = roundTo((hi + lo + cl) / 3, tick / 100)
    }
  }
  return { start: ext.open, n, regFrom, regTo, o, h, l, c, v, wap, count }
}

/** The session's minute bars, or undefined when the instrument has no session on that day. */
export const minuteBars = (inst: Instrument, tradingDay: string): MinuteBars | undefined => {
  const key = `${inst.pathKey}|${tradingDay}`
  let bars = cache.get(key)
  if (bars === undefined) {
    bars = build(inst, tradingDay)
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!)
    cache.set(key, bars)
  } else {
    // Refresh recency so hot days (the benchmark's, a test's) stay cached.
    cache.delete(key)
    cache.set(key, bars)
  }
  return bars ?? undefined
}
