/**
 * Text written straight into a growable byte buffer: numbers as `String(n)`/`JSON.stringify(n)` print them (the
 * shortest round-trip decimal) and UTC timestamps from per-day cached bytes. Shared by the CSV writer and the JSON
 * bar encoder, so a million rows become bytes with no per-row strings and no cons-strings for the GC to copy.
 */
import { civilFromDays, DAY_MS } from "./utcDays.ts"

const DOT = 46, MINUS = 45, ZERO = 48, COLON = 58, COMMA = 44
const POW10 = Array.from({ length: 9 }, (_, k) => 10 ** k)

export class ByteWriter {
  protected buf: Uint8Array
  protected pos = 0
  private day = NaN
  private readonly dayBytes = new Uint8Array(10)
  private readonly digits = new Uint8Array(24)

  constructor(capacity = 1 << 20) {
    this.buf = new Uint8Array(capacity)
  }

  /** Empties the buffer (its memory is reused). */
  reset(): void {
    this.pos = 0
  }

  /** The bytes written since the last reset, as a view valid until the next write. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos)
  }

  /** A copy of the bytes written since the last reset: safe to keep and to hand to a socket. */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n))
    bigger.set(this.buf.subarray(0, this.pos))
    this.buf = bigger
  }

  byte(b: number): void {
    this.buf[this.pos++] = b
  }

  /** ASCII text (callers reserve room). */
  ascii(s: string): void {
    for (let k = 0; k < s.length; k++) this.buf[this.pos++] = s.charCodeAt(k)
  }

  private two(n: number): void {
    this.buf[this.pos++] = ZERO + Math.floor(n / 10)
    this.buf[this.pos++] = ZERO + (n % 10)
  }

  /** `YYYY-MM-DD`, `T` and `HH:MM:SS` of a UTC instant in years 0000–9999; returns the milliseconds left over. */
  protected isoSecond(ms: number): number {
    const d = Math.floor(ms / DAY_MS)
    if (d !== this.day) { // bars of one day share their date bytes
      this.day = d
      const [y, m, dd] = civilFromDays(d)
      const s = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(dd).padStart(2, "0")}`
      for (let k = 0; k < 10; k++) this.dayBytes[k] = s.charCodeAt(k)
    }
    this.buf.set(this.dayBytes, this.pos)
    this.pos += 10
    this.byte(84) // T
    const t = ms - d * DAY_MS
    const sec = Math.floor(t / 1000)
    this.two(Math.floor(sec / 3600))
    this.byte(COLON)
    this.two(Math.floor(sec / 60) % 60)
    this.byte(COLON)
    this.two(sec % 60)
    return t - sec * 1000
  }

  /** `YYYY-MM-DDTHH:MM:SS[.fff]Z`: milliseconds only when the instant has them, so nothing is lost. */
  isoUtc(ms: number): void {
    const frac = this.isoSecond(ms)
    if (frac !== 0) {
      this.byte(DOT)
      this.byte(ZERO + Math.floor(frac / 100))
      this.two(frac % 100)
    }
    this.byte(90) // Z
  }

  /** `YYYY-MM-DDTHH:MM:SS`: KTRDR's naive UTC wall clock (strftime `%Y-%m-%dT%H:%M:%S`), milliseconds dropped. */
  naiveSecond(ms: number): void {
    this.isoSecond(ms)
  }

  /**
   * `String(x)` as bytes for a finite x. Fast path: the fewest fraction digits s ≤ 8 for which round(x·10^s)/10^s
   * is x again. That decimal round-trips, and no shorter one can (it would have fewer fraction digits and been found
   * first), so it is exactly the shortest form String() prints; anything else (exponents, long fractions) goes
   * through String(). Callers reserve 24 bytes.
   */
  number(x: number): void {
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
    this.ascii(String(x))
  }

  /**
   * `open,high,low,close,` of row i, each followed by a comma; a missing (NaN) price is written as `missing` — empty
   * in CSV (pandas' NaN), `null` in JSON. Callers reserve 4 × 25 bytes.
   */
  ohlcThenComma(
    s: {
      readonly open: Float64Array
      readonly high: Float64Array
      readonly low: Float64Array
      readonly close: Float64Array
    },
    i: number,
    missing: string
  ): void {
    this.priceThenComma(s.open[i]!, missing)
    this.priceThenComma(s.high[i]!, missing)
    this.priceThenComma(s.low[i]!, missing)
    this.priceThenComma(s.close[i]!, missing)
  }

  private priceThenComma(x: number, missing: string): void {
    if (x === x) this.number(x)
    else this.ascii(missing)
    this.byte(COMMA)
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
