/**
 * KTRDR's CSV bar files as a pure codec (no I/O). Reads every layout KTRDR has written — index header `date`,
 * `timestamp`, empty or anything else; date-only, `YYYY-MM-DD HH:MM:SS[.fff]`, `T`, `Z`, `±HH:MM`, naive (= UTC) —
 * and writes today's form `timestamp,open,high,low,close,volume[,extras]` with `YYYY-MM-DDTHH:MM:SSZ`.
 *
 * The parser works on bytes and is incremental: `feed` takes whatever complete records a buffer holds and says how
 * much it consumed, so the store can stream a file in chunks and give the event loop a turn between them. The fast
 * path reads digits straight from the bytes (no regex, no Date, no substring per field); anything unusual falls back
 * to a slow, strict path. A line that cannot be read is a problem naming its 1-based line — never skipped.
 */
import { Either } from "effect"
import type { Bar } from "./Bar.ts"
import { daysFromCivil, daysInMonth, DAY_MS } from "./utcDays.ts"

export interface BarSeries {
  readonly bars: ReadonlyArray<Bar>
  /** Columns beyond OHLCV, kept verbatim (KTRDR frames may carry e.g. indicators). */
  readonly extraColumns: ReadonlyArray<string>
  /** Per bar, one string per extra column ("" when empty). */
  readonly extras: ReadonlyArray<ReadonlyArray<string>>
}

/** A parsed file, rows in file order; ordering defects are reported as data for QualityCheck, not repaired here. */
export interface ParsedBarCsv extends BarSeries {
  readonly indexHeader: string
  /** Rows whose time is earlier than the previous row's. */
  readonly outOfOrder: number
  /** Rows whose time equals the previous row's. */
  readonly duplicates: number
  /** Rows with an empty (or `nan`) price, read as NaN: pandas' missing value, e.g. in KTRDR's DEMO_1d.csv. */
  readonly missing: number
}

export interface CsvProblem {
  readonly line: number
  readonly message: string
}

/** Shared row for series without extra columns: one immutable array instead of a million empty ones. */
export const NO_EXTRAS: ReadonlyArray<string> = Object.freeze([])

const LF = 10, CR = 13, COMMA = 44, QUOTE = 34, DOT = 46, MINUS = 45, PLUS = 43, COLON = 58, SPACE = 32
const UPPER_T = 84, LOWER_T = 116, UPPER_Z = 90, LOWER_Z = 122
const TIME = 0, OPEN = 1, HIGH = 2, LOW = 3, CLOSE = 4, VOLUME = 5, EXTRA = 6
const ROLE_NAMES: Record<string, number> = { open: OPEN, high: HIGH, low: LOW, close: CLOSE, volume: VOLUME }
const NAMES = ["time", "open", "high", "low", "close", "volume"]
/** Exact powers of ten: m / 10^k is correctly rounded when m ≤ 2^53 and k ≤ 22 (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`))
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/
const utf8 = new TextDecoder()

class Failure {
  constructor(readonly line: number, readonly message: string) {}
}

const digits2 = (b: Uint8Array, p: number): number => {
  const a = b[p]! - 48, c = b[p + 1]! - 48
  // NaN (read past the end) fails these comparisons too
  return a >= 0 && a <= 9 && c >= 0 && c <= 9 ? a * 10 + c : -1
}

const show = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)

export class BarCsvParser {
  private b: Uint8Array = new Uint8Array(0)
  private p = 0
  private line = 1
  private roles: Array<number> | undefined
  /** Header is exactly index,open,high,low,close,volume. */
  private standard = false
  private extraSlot: Array<number> = []
  private indexHeader = ""
  private extraColumns: Array<string> = []
  private readonly bars: Array<Bar> = []
  private readonly extras: Array<ReadonlyArray<string>> = []
  private prev = -Infinity
  private outOfOrder = 0
  private duplicates = 0
  private missing = 0
  private rowMissing = false

  /**
   * Parses every complete record in buf[0, len) and returns the bytes consumed; the rest is a partial record to feed
   * again, with more bytes after it. The caller ends the input with a line feed (the store appends one at EOF).
   */
  feed(buf: Uint8Array, len: number): number | CsvProblem {
    const b = len === buf.length ? buf : buf.subarray(0, len)
    this.b = b
    // every unquoted scan stops at a line feed, and this one bounds them all
    const limit = b.lastIndexOf(LF)
    let start = 0
    try {
      while (start <= limit) {
        const line = this.line
        this.p = start
        if (!this.record(limit, len)) {
          this.line = line
          break
        }
        start = this.p
      }
      return start
    } catch (e) {
      if (e instanceof Failure) return { line: e.line, message: e.message }
      throw e
    }
  }

  /** Ends the input; `rest` is what the last feed left unconsumed (only an unterminated quote can leave some). */
  finish(rest = 0): Either.Either<ParsedBarCsv, CsvProblem> {
    if (rest > 0) return Either.left({ line: this.line, message: "unterminated quoted field" })
    if (!this.roles) return Either.left({ line: 1, message: "empty file: no header row" })
    return Either.right({
      bars: this.bars, extraColumns: this.extraColumns, extras: this.extras,
      indexHeader: this.indexHeader, outOfOrder: this.outOfOrder, duplicates: this.duplicates, missing: this.missing
    })
  }

  private fail(message: string): Failure {
    return new Failure(this.line, message)
  }

  /** One record from this.p; false when it does not end inside the buffer yet. */
  private record(limit: number, len: number): boolean {
    const b = this.b
    let p = this.p
    if (this.line === 1 && p === 0 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) p = this.p = 3 // UTF-8 BOM
    if (b[p] === CR) p++
    if (b[p] === LF) { // blank line: pandas skips them, and they hold no data
      this.p = p + 1
      this.line++
      return true
    }
    const roles = this.roles
    if (!roles) return this.header(limit, len)
    if (this.standard && b[p] !== QUOTE) {
      const start = this.p
      if (this.standardRecord()) return true
      this.p = start // a quoted field further on: the general path below reads it
    }
    const n = roles.length
    let time = 0, open = 0, high = 0, low = 0, close = 0
    let volume: number | null = null
    this.rowMissing = false
    const row: Array<string> | undefined = this.extraColumns.length > 0 ? new Array<string>(this.extraColumns.length) : undefined
    for (let col = 0; col < n; col++) {
      if (col > 0) {
        if (b[this.p] !== COMMA) throw this.fail(`expected ${n} fields, found ${col}`)
        this.p++
      }
      const role = roles[col]!
      if (b[this.p] === QUOTE) {
        const text = this.quoted(limit, len)
        if (text === undefined) return false
        if (role === EXTRA) row![this.extraSlot[col]!] = text
        else if (role === TIME) time = this.timeOf(text)
        else if (role === VOLUME) volume = this.volumeOf(text)
        else { const v = this.numberOf(text, NAMES[role]!); if (role === OPEN) open = v; else if (role === HIGH) high = v; else if (role === LOW) low = v; else close = v }
        continue
      }
      switch (role) {
        case TIME: time = this.time(); break
        case OPEN: open = this.price(OPEN); break
        case HIGH: high = this.price(HIGH); break
        case LOW: low = this.price(LOW); break
        case CLOSE: close = this.price(CLOSE); break
        case VOLUME: volume = this.volume(); break
        default: row![this.extraSlot[col]!] = this.plain()
      }
    }
    let c = b[this.p]
    if (c === CR) c = b[++this.p]
    if (c !== LF) throw this.fail(c === COMMA ? `too many fields (expected ${n})` : `unexpected text ${show(this.rest())}`)
    this.p++
    this.push(time, open, high, low, close, volume, row ?? NO_EXTRAS)
    return true
  }

  private push(time: number, open: number, high: number, low: number, close: number, volume: number | null, row: ReadonlyArray<string>): void {
    if (time < this.prev) this.outOfOrder++
    else if (time === this.prev) this.duplicates++
    this.prev = time
    if (this.rowMissing) this.missing++
    this.bars.push({ time, open, high, low, close, volume, wap: null, count: null })
    this.extras.push(row)
    this.line++
  }

  /** `<time>,open,high,low,close,volume` in that order with no quotes (every file this store writes): straight-line. */
  private standardRecord(): boolean {
    const b = this.b
    this.rowMissing = false
    const time = this.time()
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const open = this.price(OPEN)
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const high = this.price(HIGH)
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const low = this.price(LOW)
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const close = this.price(CLOSE)
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const volume = this.volume()
    let c = b[this.p]
    if (c === CR) c = b[++this.p]
    if (c !== LF) return false // the general path names the problem
    this.p++
    this.push(time, open, high, low, close, volume, NO_EXTRAS)
    return true
  }

  private header(limit: number, len: number): boolean {
    const names: Array<string> = []
    for (;;) {
      const text = this.b[this.p] === QUOTE ? this.quoted(limit, len) : this.plain()
      if (text === undefined) return false
      names.push(text.trim())
      const c = this.b[this.p]
      if (c === COMMA) { this.p++; continue }
      if (c === CR && this.b[this.p + 1] === LF) this.p++
      else if (c !== LF) throw this.fail("malformed header")
      this.p++
      break
    }
    const roles = [TIME]
    const seen = new Set<string>()
    for (const name of names.slice(1)) {
      const key = name.toLowerCase()
      if (seen.has(key)) throw this.fail(`duplicate column ${show(name)}`)
      seen.add(key)
      const role = ROLE_NAMES[key]
      this.extraSlot[roles.length] = role === undefined ? this.extraColumns.length : -1
      if (role === undefined) this.extraColumns.push(name)
      roles.push(role ?? EXTRA)
    }
    const missing = ["open", "high", "low", "close"].filter((k) => !seen.has(k))
    if (missing.length > 0) throw this.fail(`missing column(s) ${missing.join(", ")} in header ${show(names.join(","))}`)
    this.indexHeader = names[0] ?? ""
    this.roles = roles
    this.standard = roles.join() === [TIME, OPEN, HIGH, LOW, CLOSE, VOLUME].join()
    this.line++
    return true
  }

  /** End of the current unquoted field: its delimiter. */
  private fieldEnd(): number {
    const b = this.b
    let e = this.p
    for (let c = b[e]; c !== COMMA && c !== LF && c !== CR && c !== undefined; c = b[++e]);
    return e
  }

  /** Text of the current unquoted field (for messages and the slow paths); does not advance. */
  private rest(): string {
    return utf8.decode(this.b.subarray(this.p, this.fieldEnd()))
  }

  private plain(): string {
    const e = this.fieldEnd()
    const text = utf8.decode(this.b.subarray(this.p, e))
    this.p = e
    return text
  }

  /** RFC 4180 quoted field at this.p; undefined when its end (or the record's) is not in the buffer yet. */
  private quoted(limit: number, len: number): string | undefined {
    const b = this.b
    let p = this.p + 1
    let s = p
    let out = ""
    for (;;) {
      if (p >= len) return undefined
      const c = b[p]
      if (c === QUOTE) {
        out += utf8.decode(b.subarray(s, p))
        if (b[p + 1] === QUOTE) { s = p + 1; p += 2; continue } // "" is a literal quote
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
  private time(): number {
    const b = this.b, p = this.p
    const y = digits2(b, p) * 100 + digits2(b, p + 2), mo = digits2(b, p + 5), d = digits2(b, p + 8)
    if (digits2(b, p) < 0 || digits2(b, p + 2) < 0 || b[p + 4] !== MINUS || b[p + 7] !== MINUS || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return this.badTime()
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
          for (c = b[++q]; c !== undefined && c >= 48 && c <= 57; c = b[++q], k++) if (k < 3) ms += (c - 48) * (k === 0 ? 100 : k === 1 ? 10 : 1)
          if (k === 0) return this.badTime()
        }
      }
      if (c === UPPER_Z || c === LOWER_Z) c = b[++q]
      else if (c === PLUS || c === MINUS) {
        const sign = c === PLUS ? 1 : -1
        const oh = digits2(b, q + 1)
        q += 3
        let om = 0
        if (b[q] === COLON) { om = digits2(b, q + 1); q += 3 } else if (digits2(b, q) >= 0) { om = digits2(b, q); q += 2 }
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return this.badTime()
        ms -= sign * (oh * 3_600_000 + om * 60_000)
        c = b[q]
      }
    }
    if (c !== COMMA && c !== LF && c !== CR) return this.badTime()
    this.p = q
    return daysFromCivil(y, mo, d) * DAY_MS + ms
  }

  private badTime(): never {
    throw this.fail(`timestamp: cannot read ${show(this.rest())}`)
  }

  /** Decimal from the digits; exponents, 16+ digit mantissas and junk take the slow path. */
  private number(): number {
    const b = this.b
    let p = this.p
    let c = b[p]!
    const neg = c === MINUS
    if (neg || c === PLUS) c = b[++p]!
    let m = 0, n = 0, frac = 0
    for (; c >= 48 && c <= 57; c = b[++p]!, n++) m = m * 10 + (c - 48)
    if (c === DOT) for (c = b[++p]!; c >= 48 && c <= 57; c = b[++p]!, frac++) m = m * 10 + (c - 48)
    if (n + frac > 0 && (c === COMMA || c === LF || c === CR) && m <= Number.MAX_SAFE_INTEGER && frac <= 22) {
      this.p = p
      const v = frac === 0 ? m : m / POW10[frac]!
      return neg ? -v : v
    }
    const text = this.plain()
    return NUMBER_TEXT.test(text) ? Number(text) : NaN
  }

  private price(role: number): number {
    const start = this.p
    const v = this.number()
    if (Number.isFinite(v)) return v
    this.p = start
    return this.numberOf(this.plain(), NAMES[role]!)
  }

  private volume(): number | null {
    const c = this.b[this.p]
    if (c === COMMA || c === LF || c === CR) return null
    const start = this.p
    const v = this.number()
    if (Number.isFinite(v)) return v === -1 ? null : v // IB's "absent" marker
    this.p = start
    return this.volumeOf(this.plain())
  }

  /** Slow, strict path: a decimal, or empty/`nan` = missing (NaN); anything else is a problem on this line. */
  private numberOf(text: string, name: string): number {
    const t = text.trim()
    if (t === "" || t.toLowerCase() === "nan") {
      this.rowMissing = true
      return NaN
    }
    const v = NUMBER_TEXT.test(t) ? Number(t) : NaN
    if (!Number.isFinite(v)) throw this.fail(`${name}: not a number: ${show(text)}`)
    return v
  }

  private volumeOf(text: string): number | null {
    const t = text.trim()
    if (t === "" || t.toLowerCase() === "nan") return null
    const v = NUMBER_TEXT.test(t) ? Number(t) : NaN
    if (!Number.isFinite(v)) throw this.fail(`volume: not a number: ${show(text)}`)
    return v === -1 ? null : v
  }

  /** A quoted timestamp: re-read its bytes with the fast reader (rare; pandas never quotes them). */
  private timeOf(text: string): number {
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

/** Whole-text convenience over BarCsvParser (tests, small files, the store's head/tail peek). */
export const parseBarCsv = (input: string | Uint8Array): Either.Either<ParsedBarCsv, CsvProblem> => {
  let bytes = typeof input === "string" ? new TextEncoder().encode(input) : input
  if (bytes.length > 0 && bytes[bytes.length - 1] !== LF) {
    const withLf = new Uint8Array(bytes.length + 1)
    withLf.set(bytes)
    withLf[bytes.length] = LF
    bytes = withLf
  }
  const parser = new BarCsvParser()
  const used = parser.feed(bytes, bytes.length)
  return typeof used === "number" ? parser.finish(bytes.length - used) : Either.left(used)
}
