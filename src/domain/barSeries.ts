/**
 * A bar series as columns: one Float64Array per field, not one object per bar. A million bars are 48 MB of flat
 * numbers that the garbage collector never walks (a million `Bar` objects were ~190 MB of pointers, and a full GC over
 * them held the event loop ~80 ms), and every hot loop — parse, merge, range cut, encode — reads contiguous memory.
 *
 * Conventions: `time` is epoch ms UTC, ascending and unique in everything the store writes; a missing price (pandas'
 * empty cell) is NaN; an absent volume (IB's -1) is NaN and written back as -1. Extra columns (indicators a KTRDR
 * frame may carry) are kept verbatim as strings, column-major: `extras[c][i]`.
 */
import type { Bar } from "./Bar.ts"

export interface BarSeries {
  readonly length: number
  readonly time: Float64Array
  readonly open: Float64Array
  readonly high: Float64Array
  readonly low: Float64Array
  readonly close: Float64Array
  /** NaN = absent (IB's -1, quote bars, indices), which is not 0. */
  readonly volume: Float64Array
  /** Columns beyond OHLCV, in file order. */
  readonly extraColumns: ReadonlyArray<string>
  /** One array per extra column, `length` strings each ("" when empty); empty when there are no extra columns. */
  readonly extras: ReadonlyArray<ReadonlyArray<string>>
}

export const NUMERIC = ["time", "open", "high", "low", "close", "volume"] as const
export type NumericColumn = (typeof NUMERIC)[number]

export const emptySeries = (extraColumns: ReadonlyArray<string> = []): BarSeries => ({
  length: 0,
  time: new Float64Array(0),
  open: new Float64Array(0),
  high: new Float64Array(0),
  low: new Float64Array(0),
  close: new Float64Array(0),
  volume: new Float64Array(0),
  extraColumns,
  extras: extraColumns.map(() => [])
})

export const firstTime = (s: BarSeries): number | null => (s.length > 0 ? s.time[0]! : null)
export const lastTime = (s: BarSeries): number | null => (s.length > 0 ? s.time[s.length - 1]! : null)

/**
 * Growable columns, filled row by row (the CSV parser, the IB layer). Capacity doubles; `finish` trims with one copy
 * only when more than an eighth would be wasted, so a series sized from a hint costs no copy at all.
 */
export class SeriesBuilder {
  length = 0
  private cap: number
  time: Float64Array
  open: Float64Array
  high: Float64Array
  low: Float64Array
  close: Float64Array
  volume: Float64Array
  private readonly extraCols: Array<Array<string>>

  constructor(readonly extraColumns: ReadonlyArray<string> = [], capacity = 1024) {
    this.cap = Math.max(16, capacity)
    this.time = new Float64Array(this.cap)
    this.open = new Float64Array(this.cap)
    this.high = new Float64Array(this.cap)
    this.low = new Float64Array(this.cap)
    this.close = new Float64Array(this.cap)
    this.volume = new Float64Array(this.cap)
    this.extraCols = extraColumns.map(() => [])
  }

  /** Rows the columns hold before they grow. */
  get capacity(): number {
    return this.cap
  }

  /** Room for `n` more rows without another grow (a caller that knows the size avoids the doublings). */
  reserve(n: number): void {
    if (this.length + n > this.cap) this.resize(Math.max(this.length + n, this.cap * 2))
  }

  push(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    if (this.length === this.cap) this.resize(this.cap * 2)
    const i = this.length++
    this.time[i] = time
    this.open[i] = open
    this.high[i] = high
    this.low[i] = low
    this.close[i] = close
    this.volume[i] = volume
  }

  /** The extra fields of the row just pushed, one per extra column. */
  pushExtras(row: ReadonlyArray<string>): void {
    for (let c = 0; c < this.extraCols.length; c++) this.extraCols[c]!.push(row[c] ?? "")
  }

  pushBar(b: Bar): void {
    this.push(b.time, b.open, b.high, b.low, b.close, b.volume ?? NaN)
  }

  finish(): BarSeries {
    const n = this.length
    const fit = (a: Float64Array) => (this.cap - n > this.cap >> 3 ? a.slice(0, n) : a.subarray(0, n))
    return {
      length: n,
      time: fit(this.time),
      open: fit(this.open),
      high: fit(this.high),
      low: fit(this.low),
      close: fit(this.close),
      volume: fit(this.volume),
      extraColumns: this.extraColumns,
      extras: this.extraCols
    }
  }

  private resize(cap: number): void {
    const grow = (a: Float64Array) => {
      const b = new Float64Array(cap)
      b.set(a.subarray(0, this.length))
      return b
    }
    this.time = grow(this.time)
    this.open = grow(this.open)
    this.high = grow(this.high)
    this.low = grow(this.low)
    this.close = grow(this.close)
    this.volume = grow(this.volume)
    this.cap = cap
  }
}

/** Columns from bar objects (IB answers, tests, the runtime's callers); extras given row-major, one row per bar. */
export const seriesFromBars = (
  bars: ReadonlyArray<Bar>,
  extraColumns: ReadonlyArray<string> = [],
  extraRows?: ReadonlyArray<ReadonlyArray<string>>
): BarSeries => {
  const b = new SeriesBuilder(extraColumns, bars.length)
  for (let i = 0; i < bars.length; i++) {
    b.pushBar(bars[i]!)
    if (extraColumns.length > 0) b.pushExtras(extraRows?.[i] ?? [])
  }
  return b.finish()
}

/** One row as a Bar object: for cold paths and callers that want objects (never in a loop over a whole series). */
export const barAt = (s: BarSeries, i: number): Bar => {
  const v = s.volume[i]!
  return {
    time: s.time[i]!,
    open: s.open[i]!,
    high: s.high[i]!,
    low: s.low[i]!,
    close: s.close[i]!,
    volume: Number.isNaN(v) ? null : v,
    wap: null,
    count: null
  }
}

export const barsOf = (s: BarSeries): Array<Bar> => Array.from({ length: s.length }, (_, i) => barAt(s, i))

/** The extra fields of row i, row-major (tests, the CSV writer's slow path). */
export const extrasAt = (s: BarSeries, i: number): ReadonlyArray<string> => s.extras.map((col) => col[i] ?? "")

/** Every row's extra fields, row-major (tests, callers that think in rows). */
export const extraRows = (s: BarSeries): Array<ReadonlyArray<string>> =>
  Array.from({ length: s.length }, (_, i) => extrasAt(s, i))

/** Rows [from, to) as views over the same memory: no copy. */
export const sliceSeries = (s: BarSeries, from: number, to: number): BarSeries =>
  from <= 0 && to >= s.length ? s : {
    length: Math.max(0, to - from),
    time: s.time.subarray(from, to),
    open: s.open.subarray(from, to),
    high: s.high.subarray(from, to),
    low: s.low.subarray(from, to),
    close: s.close.subarray(from, to),
    volume: s.volume.subarray(from, to),
    extraColumns: s.extraColumns,
    extras: s.extras.map((col) => col.slice(from, to))
  }

/** The rows at `rows`, in that order (a sort's permutation, a filter's survivors). */
export const takeRows = (s: BarSeries, rows: ArrayLike<number>): BarSeries => {
  const n = rows.length
  const pick = (a: Float64Array) => {
    const out = new Float64Array(n)
    for (let k = 0; k < n; k++) out[k] = a[rows[k]!]!
    return out
  }
  return {
    length: n,
    time: pick(s.time),
    open: pick(s.open),
    high: pick(s.high),
    low: pick(s.low),
    close: pick(s.close),
    volume: pick(s.volume),
    extraColumns: s.extraColumns,
    extras: s.extras.map((col) => Array.from({ length: n }, (_, k) => col[rows[k]!] ?? ""))
  }
}

/** First index in [from, length) whose time is ≥ t (length when none): binary search on the time column. */
export const lowerBound = (time: Float64Array, t: number, from = 0, to = time.length): number => {
  let lo = from, hi = to
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (time[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index in [from, to) whose time is > t (to when none). */
export const upperBound = (time: Float64Array, t: number, from = 0, to = time.length): number => {
  let lo = from, hi = to
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (time[mid]! <= t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows of an ascending series inside [start, end]: two binary searches and views, no copy. */
export const windowOf = (s: BarSeries, start: number, end: number): BarSeries =>
  sliceSeries(s, lowerBound(s.time, start, 0, s.length), upperBound(s.time, end, 0, s.length))

/** Same numbers in two rows (NaN equals NaN: a missing price that stays missing is no change). */
export const sameRow = (a: BarSeries, i: number, b: BarSeries, j: number): boolean =>
  a.time[i] === b.time[j] && Object.is(a.open[i], b.open[j]) && Object.is(a.high[i], b.high[j]) &&
  Object.is(a.low[i], b.low[j]) && Object.is(a.close[i], b.close[j]) && Object.is(a.volume[i], b.volume[j])

export const strictlyAscending = (time: Float64Array, n = time.length): boolean => {
  for (let i = 1; i < n; i++) if (!(time[i]! > time[i - 1]!)) return false
  return true
}
