/** A large IB-like series for the storage benchmarks: 1-min bars, 2-decimal prices, integer volumes. */
import type { Bar } from "../src/domain/Bar.ts"
import { SeriesBuilder } from "../src/domain/barSeries.ts"

/** Deterministic (seeded) so every run measures the same bytes. */
export const makeBars = (n: number, startMs = Date.UTC(2015, 0, 2, 14, 30), stepMs = 60_000, seed = 42): Array<Bar> => {
  let s = seed >>> 0
  const rnd = () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32)
  const cents = (x: number) => Math.round(x * 100) / 100
  const bars: Array<Bar> = new Array(n)
  let price = 100
  for (let i = 0; i < n; i++) {
    price = Math.max(1, price + (rnd() - 0.5) * 0.4)
    const open = cents(price), close = cents(price + (rnd() - 0.5) * 0.6)
    bars[i] = {
      time: startMs + i * stepMs,
      open,
      high: cents(Math.max(open, close) + rnd() * 0.2),
      low: cents(Math.min(open, close) - rnd() * 0.2),
      close,
      volume: Math.floor(rnd() * 50_000),
      wap: null,
      count: null
    }
  }
  return bars
}

/** The same series as makeBars, straight into columns (no million objects for the benchmark's own setup). */
export const makeSeries = (n: number, startMs = Date.UTC(2015, 0, 2, 14, 30), stepMs = 60_000, seed = 42) => {
  let s = seed >>> 0
  const rnd = () => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32)
  const cents = (x: number) => Math.round(x * 100) / 100
  const b = new SeriesBuilder([], n)
  let price = 100
  for (let i = 0; i < n; i++) {
    price = Math.max(1, price + (rnd() - 0.5) * 0.4)
    const open = cents(price), close = cents(price + (rnd() - 0.5) * 0.6)
    const high = cents(Math.max(open, close) + rnd() * 0.2)
    const low = cents(Math.min(open, close) - rnd() * 0.2)
    b.push(startMs + i * stepMs, open, high, low, close, Math.floor(rnd() * 50_000))
  }
  return b.finish()
}
