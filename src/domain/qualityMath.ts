/** Numeric helpers of QualityCheck: column extraction, moments, quickselect median, interpolation. */
import type { Bar } from "./Bar.ts"

export type PriceColumn = "open" | "high" | "low" | "close"

export const indices = (bars: ReadonlyArray<Bar>, p: (b: Bar, k: number) => boolean): Array<number> => {
  const out: Array<number> = []
  for (let k = 0; k < bars.length; k++) if (p(bars[k]!, k)) out.push(k)
  return out
}

/** The price columns as numbers, in one pass: typed-array loops keep a million-bar check fast. */
export const columns = (bars: ReadonlyArray<Bar>): Record<PriceColumn, Float64Array> => {
  const n = bars.length
  const c = {
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n)
  }
  for (let k = 0; k < n; k++) {
    const b = bars[k]!
    c.open[k] = b.open
    c.high[k] = b.high
    c.low[k] = b.low
    c.close[k] = b.close
  }
  return c
}

export const median = (bars: ReadonlyArray<Bar>): number => {
  const all = new Float64Array(bars.length)
  let n = 0
  for (const b of bars) if (b.volume !== null && Number.isFinite(b.volume)) all[n++] = b.volume
  if (n === 0) return 0
  const v = all.subarray(0, n)
  const m = n >> 1
  const upper = select(v, m)
  return n % 2 === 1 ? upper : (select(v, m - 1) + upper) / 2
}

/** The k-th smallest value (Hoare's quickselect, in place): linear, where sorting a million volumes is not. */
export const select = (v: Float64Array, k: number): number => {
  let lo = 0, hi = v.length - 1
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1]!
    let i = lo, j = hi
    while (i <= j) {
      while (v[i]! < pivot) i++
      while (v[j]! > pivot) j--
      if (i <= j) {
        const t = v[i]!
        v[i++] = v[j]!
        v[j--] = t
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return v[k]!
  }
  return v[k]!
}

export const longestRun = (ks: ReadonlyArray<number>): number => {
  let best = 0, run = 0
  ks.forEach((k, j) => {
    run = j > 0 && ks[j - 1] === k - 1 ? run + 1 : 1
    best = Math.max(best, run)
  })
  return best
}

/** Replaces bad values (≤ 0 or non-finite) by linear interpolation in time; edges take the nearest good value. */
export const interpolate = (bars: ReadonlyArray<Bar>, col: PriceColumn): Array<Bar> => {
  const good = (k: number) => Number.isFinite(bars[k]![col]) && bars[k]![col] > 0
  const out = [...bars]
  let prev = -1
  for (let k = 0; k <= bars.length; k++) {
    if (k < bars.length && !good(k)) continue
    for (let j = prev + 1; j < k; j++) {
      const a = prev >= 0 ? bars[prev]! : undefined
      const b = k < bars.length ? bars[k]! : undefined
      const v = a && b
        ? a[col] + ((b[col] - a[col]) * (bars[j]!.time - a.time)) / (b.time - a.time || 1)
        : (a ?? b)![col]
      out[j] = { ...out[j]!, [col]: v }
    }
    prev = k
  }
  return out
}
