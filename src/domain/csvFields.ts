/**
 * Byte-level field readers for the KTRDR CSV parser (barCsv.ts): timestamps and decimals read straight from UTF-8
 * bytes with no regex, Date or substring on the fast path; RFC 4180 quoted fields; strict slow paths for the rest.
 * Invariant kept by the parser: a line feed exists at or after the current position, so unquoted scans stay in bounds.
 */
import { daysFromCivil, daysInMonth, DAY_MS } from "./utcDays.ts"

export const LF = 10, CR = 13, COMMA = 44, QUOTE = 34
const DOT = 46, MINUS = 45, PLUS = 43, COLON = 58, SPACE = 32
const UPPER_T = 84, LOWER_T = 116, UPPER_Z = 90, LOWER_Z = 122
/** Exact powers of ten: m / 10^k is correctly rounded when m ≤ 2^53 and k ≤ 22 (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`))
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const utf8 = new TextDecoder()

/** A problem on the current line; thrown inside the parser and turned into a value at its boundary. */
export class Failure {
  constructor(readonly line: number, readonly message: string) {}
}

const digits2 = (b: Uint8Array, p: number): number => {
  const a = b[p]! - 48, c = b[p + 1]! - 48
  // NaN (read past the end) fails these comparisons too
  return a >= 0 && a <= 9 && c >= 0 && c <= 9 ? a * 10 + c : -1
}

export const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)

export abstract class FieldReader {
  protected b: Uint8Array = new Uint8Array(0)
  protected p = 0
  /** 1-based physical line at the read position. */
  protected line = 1
  /** The current row had a missing (empty or `nan`) price. */
  protected rowMissing = false

  protected fail(message: string): Failure {
    return new Failure(this.line, message)
  }

  protected fieldEnd(): number {
    const b = this.b
    let e = this.p
    for (let c = b[e]; c !== COMMA && c !== LF && c !== CR && c !== undefined; c = b[++e]);
    return e
  }

  /** Text of the current unquoted field (for messages and the slow paths); does not advance. */
  protected rest(): string {
    return utf8.decode(this.b.subarray(this.p, this.fieldEnd()))
  }

  protected plain(): string {
    const e = this.fieldEnd()
    const text = utf8.decode(this.b.subarray(this.p, e))
    this.p = e
    return text
  }

  /** RFC 4180 quoted field at this.p; undefined when its end (or the record's) is not in the buffer yet. */
  protected quoted(limit: number, len: number): string | undefined {
    const b = this.b
    let p = this.p + 1
    let s = p
    let out = ""
    for (;;) {
      if (p >= len) return undefined
      const c = b[p]
      if (c === QUOTE) {
        out += utf8.decode(b.subarray(s, p))
        if (b[p + 1] === QUOTE) {
          s = p + 1
          p += 2
          continue
        } // "" is a literal quote
        p++
        break
      }
      if (c === LF) this.line++
      p++
    }
    if (p > limit) return undefined
    const c = b[p]
    if (c !== COMMA && c !== LF && c !== CR) throw this.fail("text after a closing quote")
    this.p = p
    return out
  }

  /** Epoch ms from `YYYY-MM-DD[(T| )HH:MM[:SS[.f…]]][Z|±HH[:]MM]`, straight from the digits. */
  protected time(): number {
    const b = this.b, p = this.p
    const y = digits2(b, p) * 100 + digits2(b, p + 2), mo = digits2(b, p + 5), d = digits2(b, p + 8)
    if (
      digits2(b, p) < 0 || digits2(b, p + 2) < 0 || b[p + 4] !== MINUS || b[p + 7] !== MINUS || mo < 1 || mo > 12 ||
      d < 1 || d > daysInMonth(y, mo)
    ) return this.badTime()
    let q = p + 10
    let c = b[q]
    let ms = 0
    if (c === UPPER_T || c === SPACE || c === LOWER_T) {
      const h = digits2(b, q + 1), mi = digits2(b, q + 4)
      if (h < 0 || h > 23 || b[q + 3] !== COLON || mi < 0 || mi > 59) return this.badTime()
      ms = h * 3_600_000 + mi * 60_000
      q += 6
      c = b[q]
      if (c === COLON) {
        const s = digits2(b, q + 1)
        if (s < 0 || s > 59) return this.badTime()
        ms += s * 1000
        q += 3
        c = b[q]
        if (c === DOT) {
          let k = 0
          for (c = b[++q]; c !== undefined && c >= 48 && c <= 57; c = b[++q], k++) {
            if (k < 3) ms += (c - 48) * (k === 0 ? 100 : k === 1 ? 10 : 1)
          }
          if (k === 0) return this.badTime()
        }
      }
      if (c === UPPER_Z || c === LOWER_Z) c = b[++q]
      else if (c === PLUS || c === MINUS) {
        const sign = c === PLUS ? 1 : -1
        const oh = digits2(b, q + 1)
        q += 3
        let om = 0
        if (b[q] === COLON) {
          om = digits2(b, q + 1)
          q += 3
        } else if (digits2(b, q) >= 0) {
          om = digits2(b, q)
          q += 2
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return this.badTime()
        ms -= sign * (oh * 3_600_000 + om * 60_000)
        c = b[q]
      }
    }
    if (c !== COMMA && c !== LF && c !== CR) return this.badTime()
    this.p = q
    return daysFromCivil(y, mo, d) * DAY_MS + ms
  }

  protected badTime(): never {
    throw this.fail(`timestamp: cannot read ${show(this.rest())}`)
  }

  /** Decimal from the digits; exponents, 16+ digit mantissas and junk take the slow path. */
  protected number(): number {
    const b = this.b
    let p = this.p
    let c = b[p]!
    const neg = c === MINUS
    if (neg || c === PLUS) c = b[++p]!
    let m = 0, n = 0, frac = 0
    for (; c >= 48 && c <= 57; c = b[++p]!, n++) m = m * 10 + (c - 48)
    if (c === DOT) { for (c = b[++p]!; c >= 48 && c <= 57; c = b[++p]!, frac++) m = m * 10 + (c - 48) }
    if (n + frac > 0 && (c === COMMA || c === LF || c === CR) && m <= Number.MAX_SAFE_INTEGER && frac <= 22) {
      this.p = p
      const v = frac === 0 ? m : m / POW10[frac]!
      return neg ? -v : v
    }
    const text = this.plain()
    return NUMBER_TEXT.test(text) ? Number(text) : NaN
  }

  protected price(name: string): number {
    const start = this.p
    const v = this.number()
    if (Number.isFinite(v)) return v
    this.p = start
    return this.numberOf(this.plain(), name)
  }

  protected volume(): number | null {
    const c = this.b[this.p]
    if (c === COMMA || c === LF || c === CR) return null
    const start = this.p
    const v = this.number()
    if (Number.isFinite(v)) return v === -1 ? null : v // IB's "absent" marker
    this.p = start
    return this.volumeOf(this.plain())
  }

  /** Slow, strict path: a decimal, or empty/`nan` = missing (NaN); anything else is a problem on this line. */
  protected numberOf(text: string, name: string): number {
    const t = text.trim()
    if (t === "" || t.toLowerCase() === "nan") {
      this.rowMissing = true
      return NaN
    }
    const v = NUMBER_TEXT.test(t) ? Number(t) : NaN
    if (!Number.isFinite(v)) throw this.fail(`${name}: not a number: ${show(text)}`)
    return v
  }

  protected volumeOf(text: string): number | null {
    const t = text.trim()
    if (t === "" || t.toLowerCase() === "nan") return null
    const v = NUMBER_TEXT.test(t) ? Number(t) : NaN
    if (!Number.isFinite(v)) throw this.fail(`volume: not a number: ${show(text)}`)
    return v === -1 ? null : v
  }

  /** A quoted timestamp: re-read its bytes with the fast reader (rare; pandas never quotes them). */
  protected timeOf(text: string): number {
    const saved = this.b, p = this.p
    this.b = new TextEncoder().encode(`${text.trim()}\n`)
    this.p = 0
    try {
      const t = this.time()
      if (this.b[this.p] !== LF) this.badTime()
      return t
    } finally {
      this.b = saved
      this.p = p
    }
  }
}
