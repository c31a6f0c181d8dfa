/** A large IB-like series for the storage benchmarks: 1-min bars, 2-decimal prices, integer volumes. */
import type { Bar } from "../src/domain/Bar.ts"

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
