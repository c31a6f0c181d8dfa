/**
 * The hot loop of the CSV parser (barCsv.ts): rows of the store's own layout, `timestamp,open,high,low,close,volume`,
 * read many at a time in one function with every position and value in locals. Per-field method calls cost a call, a
 * store of the read position and a boxed double for each returned number; here a million rows parse in about half the
 * time. A row's day is computed once per day: rows whose ten date bytes equal the previous row's reuse its day.
 *
 * Only the plainest shape is read: `YYYY-MM-DD(T| )HH:MM:SS[Z]`, then prices and volume as `[-]digits[.digits]` with at
 * most 15 digits, then LF or CR LF. The first row of any other shape (offsets, fractions of a second, quotes, empty
 * or `nan` cells, exponents, a bad date, …) stops the loop before that row, and the parser's general path reads or
 * rejects it with the same rules as ever. Values are computed exactly as the general path computes them.
 */
import type { SeriesBuilder } from "./barSeries.ts"
import { daysFromCivil, daysInMonth, DAY_MS } from "./utcDays.ts"

const LF = 10, CR = 13, COMMA = 44, DOT = 46, MINUS = 45, COLON = 58, SPACE = 32, UPPER_T = 84, UPPER_Z = 90
const ZERO = 48
/** Exact powers of ten: m / 10^k is correctly rounded for m ≤ 2^53 (what the general path divides by). */
const POW10 = Array.from({ length: 16 }, (_, k) => Number(`1e${k}`))

/** What the loop carries across calls: the order counters and the last row's time. */
export interface PlainRowsState {
  prev: number
  outOfOrder: number
  duplicates: number
  rows: number
}

/** 0–9, or -1 for anything else (so an OR of several digits is negative when any is not one). */
const digit = (c: number | undefined): number => (c !== undefined && c >= ZERO && c <= ZERO + 9 ? c - ZERO : -1)

/**
 * Reads plain rows from `start` (the start of a row) while they end at or before `limit` (a line feed); returns the
 * start of the first row not read. Counts rows into `st.rows`.
 */
export const readPlainRows = (
  b: Uint8Array,
  start: number,
  limit: number,
  out: SeriesBuilder,
  st: PlainRowsState
): number => {
  let p = start
  let prev = st.prev
  let dayStart = -1 // where the previous row's date bytes are, in b
  let dayMs = 0
  let rows = 0
  const values = [0, 0, 0, 0, 0]
  // the columns in locals, written straight; `n` rows are filled, `cap` fit before the builder must grow
  let n = out.length, cap = out.capacity
  let { close, high, low, open, time: times, volume } = out
  rowLoop: while (p < limit) {
    const r = p
    // the date: reuse the previous row's day when its ten bytes are the same
    if (
      dayStart < 0 || b[r] !== b[dayStart] || b[r + 1] !== b[dayStart + 1] || b[r + 2] !== b[dayStart + 2] ||
      b[r + 3] !== b[dayStart + 3] || b[r + 5] !== b[dayStart + 5] || b[r + 6] !== b[dayStart + 6] ||
      b[r + 8] !== b[dayStart + 8] || b[r + 9] !== b[dayStart + 9] || b[r + 4] !== MINUS || b[r + 7] !== MINUS
    ) {
      const y1 = digit(b[r]), y2 = digit(b[r + 1]), y3 = digit(b[r + 2]), y4 = digit(b[r + 3])
      const m1 = digit(b[r + 5]), m2 = digit(b[r + 6]), d1 = digit(b[r + 8]), d2 = digit(b[r + 9])
      if ((y1 | y2 | y3 | y4 | m1 | m2 | d1 | d2) < 0 || b[r + 4] !== MINUS || b[r + 7] !== MINUS) break
      const y = y1 * 1000 + y2 * 100 + y3 * 10 + y4, mo = m1 * 10 + m2, d = d1 * 10 + d2
      if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) break
      dayMs = daysFromCivil(y, mo, d) * DAY_MS
      dayStart = r
    }
    const sep = b[r + 10]
    if ((sep !== UPPER_T && sep !== SPACE) || b[r + 13] !== COLON || b[r + 16] !== COLON) break
    const h1 = digit(b[r + 11]), h2 = digit(b[r + 12]), i1 = digit(b[r + 14]), i2 = digit(b[r + 15])
    const s1 = digit(b[r + 17]), s2 = digit(b[r + 18])
    if ((h1 | h2 | i1 | i2 | s1 | s2) < 0) break
    const h = h1 * 10 + h2, mi = i1 * 10 + i2, s = s1 * 10 + s2
    if (h > 23 || mi > 59 || s > 59) break
    p = r + 19
    if (b[p] === UPPER_Z) p++
    if (b[p] !== COMMA) break
    const time = dayMs + h * 3_600_000 + mi * 60_000 + s * 1000
    // open, high, low, close, volume
    for (let f = 0; f < 5; f++) {
      let c = b[++p]
      const neg = c === MINUS
      if (neg) c = b[++p]
      let m = 0, n = 0, frac = 0
      while (c !== undefined && c >= ZERO && c <= ZERO + 9) {
        m = m * 10 + (c - ZERO)
        n++
        c = b[++p]
      }
      if (c === DOT) {
        c = b[++p]
        while (c !== undefined && c >= ZERO && c <= ZERO + 9) {
          m = m * 10 + (c - ZERO)
          frac++
          c = b[++p]
        }
      }
      if (n + frac === 0 || n + frac > 15 || (f < 4 ? c !== COMMA : c !== LF && c !== CR)) break rowLoop
      const v = frac === 0 ? m : m / POW10[frac]!
      values[f] = neg ? -v : v
    }
    if (b[p] === CR) {
      if (b[p + 1] !== LF) break
      p++
    }
    if (p > limit) break
    p++ // past the line feed
    if (time < prev) st.outOfOrder++
    else if (time === prev) st.duplicates++
    prev = time
    if (n === cap) {
      out.length = n
      out.reserve(1)
      cap = out.capacity
      ;({ close, high, low, open, time: times, volume } = out)
    }
    times[n] = time
    open[n] = values[0]!
    high[n] = values[1]!
    low[n] = values[2]!
    close[n] = values[3]!
    const v = values[4]!
    volume[n] = v === -1 ? NaN : v // IB's "absent"
    n++
    rows++
    start = p
  }
  out.length = n
  st.prev = prev
  st.rows += rows
  return start
}
