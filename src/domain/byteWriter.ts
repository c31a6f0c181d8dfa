/**
 * Text written straight into a growable byte buffer: numbers as `String(n)`/`JSON.stringify(n)` print them (the
 * shortest round-trip decimal) and UTC timestamps from per-day cached bytes. Shared by the CSV writer and the JSON
 * bar encoder, so a million rows become bytes with no per-row strings and no cons-strings for the GC to copy.
 */
import { civilFromDays, DAY_MS } from "./utcDays.ts"

const DOT = 46, MINUS = 45, ZERO = 48, COLON = 58, COMMA = 44
/** "00".."99" as byte pairs. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => ZERO + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)))
/** Below this, round(|x|·100) is an int32 (and the integer part of |x| too). */
const CENTS_LIMIT = 2 ** 31 / 100
/** Below this, round(|x|·10^8) < 2^53 and doubles are far closer together than 10^-8. */
const EIGHTS_LIMIT = 2 ** 21

export class ByteWriter {
  protected buf: Uint8Array
  protected pos = 0
  private day = NaN
  private readonly scratch = new Float64Array(1)
  private readonly dayBytes = new Uint8Array(10)

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

  /** 0 ≤ n < 100 as two digits. */
  private two(n: number): void {
    this.buf[this.pos++] = PAIRS[n << 1]!
    this.buf[this.pos++] = PAIRS[(n << 1) + 1]!
  }

  /** `YYYY-MM-DDTHH:MM:SS` of the UTC instant a[i] (epoch ms, years 0000–9999); returns the milliseconds left over. */
  protected isoSecond(a: Float64Array, i: number): number {
    const ms = a[i]!
    const d = Math.floor(ms / DAY_MS)
    const day = this.dayBytes
    if (d !== this.day) { // bars of one day share their date bytes
      this.day = d
      const [y, m, dd] = civilFromDays(d)
      const s = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(dd).padStart(2, "0")}`
      for (let k = 0; k < 10; k++) day[k] = s.charCodeAt(k)
    }
    const b = this.buf
    const p = this.pos
    // ten single stores beat one TypedArray.set call at this size
    b[p] = day[0]!
    b[p + 1] = day[1]!
    b[p + 2] = day[2]!
    b[p + 3] = day[3]!
    b[p + 4] = day[4]!
    b[p + 5] = day[5]!
    b[p + 6] = day[6]!
    b[p + 7] = day[7]!
    b[p + 8] = day[8]!
    b[p + 9] = day[9]!
    b[p + 10] = 84 // T
    const t = ms - d * DAY_MS // 0 ≤ t < 86,400,000: int32 arithmetic from here on
    const sec = (t / 1000) | 0
    const h = (sec / 3600) | 0
    const rest = sec - h * 3600
    const mi = (rest / 60) | 0
    const se = rest - mi * 60
    b[p + 11] = PAIRS[h << 1]!
    b[p + 12] = PAIRS[(h << 1) + 1]!
    b[p + 13] = COLON
    b[p + 14] = PAIRS[mi << 1]!
    b[p + 15] = PAIRS[(mi << 1) + 1]!
    b[p + 16] = COLON
    b[p + 17] = PAIRS[se << 1]!
    b[p + 18] = PAIRS[(se << 1) + 1]!
    this.pos = p + 19
    return t - sec * 1000
  }

  /** a[i] as `YYYY-MM-DDTHH:MM:SS[.fff]Z`: milliseconds only when the instant has them, so nothing is lost. */
  isoUtc(a: Float64Array, i: number): void {
    const frac = this.isoSecond(a, i)
    if (frac !== 0) {
      this.byte(DOT)
      this.byte(ZERO + Math.floor(frac / 100))
      this.two(frac % 100)
    }
    this.byte(90) // Z
  }

  /** a[i] as `YYYY-MM-DDTHH:MM:SS`: KTRDR's naive UTC wall clock (strftime `%Y-%m-%dT%H:%M:%S`), no milliseconds. */
  naiveSecond(a: Float64Array, i: number): void {
    this.isoSecond(a, i)
  }

  /**
   * `String(x)` as bytes for a finite x, the shortest decimal that reads back as x. Fast paths, each exact:
   * - integers below 2^31 (volumes): digit pairs from a table, no float division;
   * - multiples of 0.01 below 2^31/100 (most prices): k = round(|x|·100) reads back as x (k/100 === |x|), and as
   *   doubles there are closer than 0.01 apart, no decimal with fewer digits reads back as x too — so k/100 with its
   *   trailing zeros dropped is exactly what String() prints;
   * - multiples of 10^-8 in [1e-6, 2^21) (forex, crypto): the same argument with k = round(|x|·10^8) < 2^53.
   * Anything else (exponents, longer fractions, huge values) goes through String(). Callers reserve 24 bytes.
   */
  number(x: number): void {
    this.scratch[0] = x
    this.numberAt(this.scratch, 0)
  }

  /**
   * number(a[i]). The hot loops pass a column and a row, not the value: a double passed to a call V8 does not inline
   * is boxed in a fresh heap object, ~100 MB of garbage per million rows.
   */
  numberAt(a: Float64Array, i: number): void {
    const x = a[i]!
    const ax = x < 0 ? -x : x
    if (ax < CENTS_LIMIT) {
      if (x < 0) this.buf[this.pos++] = MINUS
      const k = Math.round(ax * 100)
      if (k / 100 === ax) {
        const q = (k / 100) | 0
        const r = k - q * 100
        this.uint31(q)
        if (r !== 0) {
          const t = (r / 10) | 0, u = r - t * 10
          this.buf[this.pos++] = DOT
          this.buf[this.pos++] = ZERO + t
          if (u !== 0) this.buf[this.pos++] = ZERO + u
        }
        return
      }
      if (ax >= 1e-6 && ax < EIGHTS_LIMIT) {
        const k8 = Math.round(ax * 1e8)
        if (k8 / 1e8 === ax) {
          const q = Math.floor(k8 / 1e8)
          let f = k8 - q * 1e8 // 0 < f < 10^8 and not a multiple of 10^6 (x is no multiple of 0.01): 3–8 digits
          let n = 8
          while (f % 10 === 0) {
            f = f / 10
            n--
          }
          this.uint31(q)
          this.buf[this.pos++] = DOT
          const end = this.pos + n
          for (let p = end - 1; p >= this.pos; p--) {
            const d = f % 10
            this.buf[p] = ZERO + d
            f = (f - d) / 10
          }
          this.pos = end
          return
        }
      }
      if (x < 0) this.pos-- // the general path writes its own sign
    } else if (ax < 2 ** 31 && ax === Math.floor(ax)) { // integer volumes above the cents range
      if (x < 0) this.buf[this.pos++] = MINUS
      this.uint31(ax)
      return
    }
    this.ascii(String(x))
  }

  /** 0 ≤ n < 2^31, an integer: its decimal digits, two at a time from the pair table. */
  protected uint31(n: number): void {
    const b = this.buf
    const len = n < 10
      ? 1
      : n < 100
      ? 2
      : n < 1e3
      ? 3
      : n < 1e4
      ? 4
      : n < 1e5
      ? 5
      : n < 1e6
      ? 6
      : n < 1e7
      ? 7
      : n < 1e8
      ? 8
      : n < 1e9
      ? 9
      : 10
    let p = this.pos + len
    this.pos = p
    while (n >= 100) {
      const q = (n / 100) | 0
      const r = (n - q * 100) << 1
      b[--p] = PAIRS[r + 1]!
      b[--p] = PAIRS[r]!
      n = q
    }
    if (n >= 10) {
      b[p - 1] = PAIRS[(n << 1) + 1]!
      b[p - 2] = PAIRS[n << 1]!
    } else b[p - 1] = ZERO + n
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
    this.priceThenComma(s.open, i, missing)
    this.priceThenComma(s.high, i, missing)
    this.priceThenComma(s.low, i, missing)
    this.priceThenComma(s.close, i, missing)
  }

  private priceThenComma(a: Float64Array, i: number, missing: string): void {
    if (a[i] === a[i]) this.numberAt(a, i)
    else this.ascii(missing)
    this.byte(COMMA)
  }
}
