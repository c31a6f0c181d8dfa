/**
 * Writing KTRDR CSV: header `timestamp,open,high,low,close,volume[,extras]`, timestamps `YYYY-MM-DDTHH:MM:SSZ`
 * (milliseconds only if a bar has them, so nothing is lost), numbers exactly as `String(n)` writes them (the shortest
 * round-trip decimal), IB's "absent" volume as `-1` — distinguishable from 0, still a number to pandas/KTRDR —
 * and a missing (NaN) price as an empty field, as pandas writes it.
 *
 * Rows are encoded straight into a reusable byte buffer, slice by slice: no per-row strings, no megabyte cons-strings
 * kept alive until a copy to bytes (those made the young-generation GC copy them and stalled the event loop).
 */
import type { Bar } from "./Bar.ts"
import type { BarSeries } from "./barCsv.ts"
import { civilFromDays, DAY_MS, MAX_TIME, MIN_TIME } from "./utcDays.ts"

const NEEDS_QUOTES = /[",\r\n]/
const COMMA = 44, LF = 10, DOT = 46, MINUS = 45, ZERO = 48
const POW10 = Array.from({ length: 9 }, (_, k) => 10 ** k)
const utf8 = new TextEncoder()

/** RFC 4180: quote a field only when it holds a delimiter, a quote or a line break. */
export const quoteField = (s: string): string => (NEEDS_QUOTES.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)

export const formatHeader = (extraColumns: ReadonlyArray<string>): string =>
  ["timestamp", "open", "high", "low", "close", "volume", ...extraColumns.map(quoteField)].join(",") + "\n"

export class RowEncoder {
  private buf = new Uint8Array(1 << 20)
  private pos = 0
  private day = NaN
  private readonly dayBytes = new Uint8Array(11)
  private readonly digits = new Uint8Array(24)

  /** Rows [from, to) as UTF-8 bytes; the view is valid until the next call (the store writes it before that). */
  encode(series: BarSeries, from: number, to: number): Uint8Array {
    this.pos = 0
    const withExtras = series.extraColumns.length > 0
    for (let i = from; i < to; i++) {
      const bar = series.bars[i]!
      this.ensure(160)
      this.time(bar.time)
      this.byte(COMMA)
      this.number(bar.open)
      this.byte(COMMA)
      this.number(bar.high)
      this.byte(COMMA)
      this.number(bar.low)
      this.byte(COMMA)
      this.number(bar.close)
      this.byte(COMMA)
      this.number(bar.volume ?? -1)
      if (withExtras) {
        for (const x of series.extras[i]!) {
          const text = quoteField(x)
          this.ensure(text.length * 3 + 2)
          this.byte(COMMA)
          this.pos += utf8.encodeInto(text, this.buf.subarray(this.pos)).written
        }
      }
      this.byte(LF)
    }
    return this.buf.subarray(0, this.pos)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n))
    bigger.set(this.buf.subarray(0, this.pos))
    this.buf = bigger
  }

  private byte(b: number): void {
    this.buf[this.pos++] = b
  }

  private two(n: number): void {
    this.buf[this.pos++] = ZERO + Math.floor(n / 10)
    this.buf[this.pos++] = ZERO + (n % 10)
  }

  private time(ms: number): void {
    const d = Math.floor(ms / DAY_MS)
    if (d !== this.day) { // bars of one day share their date bytes
      this.day = d
      const [y, m, dd] = civilFromDays(d)
      const s = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(dd).padStart(2, "0")}T`
      for (let k = 0; k < 11; k++) this.dayBytes[k] = s.charCodeAt(k)
    }
    this.buf.set(this.dayBytes, this.pos)
    this.pos += 11
    const t = ms - d * DAY_MS
    const sec = Math.floor(t / 1000)
    this.two(Math.floor(sec / 3600))
    this.byte(58)
    this.two(Math.floor(sec / 60) % 60)
    this.byte(58)
    this.two(sec % 60)
    const frac = t - sec * 1000
    if (frac !== 0) {
      this.byte(DOT)
      this.byte(ZERO + Math.floor(frac / 100))
      this.two(frac % 100)
    }
    this.byte(90) // Z
  }

  /**
   * `String(x)` as bytes. Fast path: the fewest fraction digits s ≤ 8 for which round(x·10^s)/10^s is x again. That
   * decimal round-trips, and no shorter one can (it would have fewer fraction digits and been found first), so it is
   * exactly the shortest form String() prints; anything else (exponents, long fractions) goes through String().
   */
  private number(x: number): void {
    if (x !== x) return // NaN: pandas' empty missing value
    const ax = x < 0 ? -x : x
    if (ax < 1e15 && (ax >= 1e-6 || ax === 0)) {
      for (let s = 0; s <= 8; s++) {
        const scale = POW10[s]!
        const k = Math.round(ax * scale)
        if (k / scale === ax && k <= Number.MAX_SAFE_INTEGER) {
          if (x < 0) this.byte(MINUS)
          this.decimal(k, s)
          return
        }
      }
    }
    const text = String(x)
    for (let k = 0; k < text.length; k++) this.buf[this.pos++] = text.charCodeAt(k)
  }

  /** k·10^-s in plain decimal notation, e.g. (20202, 2) → 202.02, (5, 3) → 0.005. */
  private decimal(k: number, s: number): void {
    const dg = this.digits
    let n = 0
    do {
      const q = Math.floor(k / 10)
      dg[n++] = ZERO + (k - q * 10)
      k = q
    } while (k > 0)
    while (n <= s) dg[n++] = ZERO // at least one digit before the point
    for (let j = n - 1; j >= 0; j--) {
      if (j === s - 1) this.byte(DOT)
      this.buf[this.pos++] = dg[j]!
    }
  }
}

/** Whole-file text (tests, small series); the store streams RowEncoder slices instead. */
export const formatBarCsv = (series: BarSeries): string =>
  formatHeader(series.extraColumns) + new TextDecoder().decode(new RowEncoder().encode(series, 0, series.bars.length))

/**
 * Why a bar cannot be written faithfully (undefined when it can): ±Infinity has no CSV form a reader accepts, and
 * times outside years 0000–9999 have no four-digit form. A NaN price is allowed: it is pandas' missing value.
 */
export const unwritable = (bar: Bar): string | undefined => {
  if (!Number.isInteger(bar.time) || bar.time < MIN_TIME || bar.time > MAX_TIME) {
    return `time ${bar.time} is not an epoch-ms instant in years 0000–9999`
  }
  for (const k of ["open", "high", "low", "close"] as const) {
    if (typeof bar[k] !== "number" || bar[k] === Infinity || bar[k] === -Infinity) return `${k} is ${bar[k]}`
  }
  if (bar.volume !== null && !Number.isFinite(bar.volume)) return `volume is ${bar.volume}`
  return undefined
}
