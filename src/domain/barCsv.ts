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
import { type BarSeries, SeriesBuilder } from "./barSeries.ts"
import { COMMA, CR, Failure, FieldReader, LF, QUOTE, show } from "./csvFields.ts"
import { type PlainRowsState, readPlainRows } from "./csvPlainRows.ts"

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

const TIME = 0, OPEN = 1, HIGH = 2, LOW = 3, CLOSE = 4, VOLUME = 5, EXTRA = 6
/** A Map, not an object literal: a column named `__proto__` or `constructor` must not find a role. */
const ROLE_NAMES = new Map<string, number>([["open", OPEN], ["high", HIGH], ["low", LOW], ["close", CLOSE], [
  "volume",
  VOLUME
]])
const NAMES = ["time", "open", "high", "low", "close", "volume"]

export class BarCsvParser extends FieldReader {
  /**
   * `capacity`: the rows expected (e.g. file size ÷ typical row length), so the columns rarely grow or trim.
   * `plainLoop`: false reads every row through the general path (tests compare the two).
   */
  constructor(private readonly capacity = 1024, private readonly plainLoop = true) {
    super()
  }

  private roles: Array<number> | undefined
  /** Header is exactly index,open,high,low,close,volume. */
  private standard = false
  private extraSlot: Array<number> = []
  private indexHeader = ""
  private extraColumns: Array<string> = []
  private out: SeriesBuilder | undefined
  /** Order counters and the last row's time, shared with the plain-row loop. */
  private readonly order: PlainRowsState = { prev: -Infinity, outOfOrder: 0, duplicates: 0, rows: 0 }
  private missing = 0

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
        if (this.standard && this.plainLoop) {
          this.order.rows = 0
          start = readPlainRows(b, start, limit, this.out!, this.order)
          this.line += this.order.rows
          if (start > limit) break
        }
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
      ...this.out!.finish(),
      indexHeader: this.indexHeader,
      outOfOrder: this.order.outOfOrder,
      duplicates: this.order.duplicates,
      missing: this.missing
    })
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
    const row: Array<string> | undefined = this.extraColumns.length > 0
      ? new Array<string>(this.extraColumns.length)
      : undefined
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
        else {
          const v = this.numberOf(text, NAMES[role]!)
          if (role === OPEN) open = v
          else if (role === HIGH) high = v
          else if (role === LOW) low = v
          else close = v
        }
        continue
      }
      switch (role) {
        case TIME:
          time = this.time()
          break
        case OPEN:
          open = this.price("open")
          break
        case HIGH:
          high = this.price("high")
          break
        case LOW:
          low = this.price("low")
          break
        case CLOSE:
          close = this.price("close")
          break
        case VOLUME:
          volume = this.volume()
          break
        default:
          row![this.extraSlot[col]!] = this.plain()
      }
    }
    let c = b[this.p]
    if (c === CR) c = b[++this.p]
    if (c !== LF) {
      throw this.fail(c === COMMA ? `too many fields (expected ${n})` : `unexpected text ${show(this.rest())}`)
    }
    this.p++
    this.push(time, open, high, low, close, volume)
    if (row) this.out!.pushExtras(row)
    return true
  }

  private push(
    time: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number | null
  ): void {
    const order = this.order
    if (time < order.prev) order.outOfOrder++
    else if (time === order.prev) order.duplicates++
    order.prev = time
    if (this.rowMissing) this.missing++
    this.out!.push(time, open, high, low, close, volume ?? NaN)
    this.line++
  }

  /** `<time>,open,high,low,close,volume` in that order with no quotes (every file this store writes): straight-line. */
  private standardRecord(): boolean {
    const b = this.b
    this.rowMissing = false
    const time = this.time()
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const open = this.price("open")
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const high = this.price("high")
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const low = this.price("low")
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const close = this.price("close")
    if (b[this.p] !== COMMA || b[this.p + 1] === QUOTE) return false
    this.p++
    const volume = this.volume()
    let c = b[this.p]
    if (c === CR) c = b[++this.p]
    if (c !== LF) return false // the general path names the problem
    this.p++
    this.push(time, open, high, low, close, volume)
    return true
  }

  private header(limit: number, len: number): boolean {
    const names: Array<string> = []
    for (;;) {
      const text = this.b[this.p] === QUOTE ? this.quoted(limit, len) : this.plain()
      if (text === undefined) return false
      names.push(text.trim())
      const c = this.b[this.p]
      if (c === COMMA) {
        this.p++
        continue
      }
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
      const role = ROLE_NAMES.get(key)
      this.extraSlot[roles.length] = role === undefined ? this.extraColumns.length : -1
      if (role === undefined) this.extraColumns.push(name)
      roles.push(role ?? EXTRA)
    }
    const missing = ["open", "high", "low", "close"].filter((k) => !seen.has(k))
    if (missing.length > 0) {
      throw this.fail(`missing column(s) ${missing.join(", ")} in header ${show(names.join(","))}`)
    }
    this.indexHeader = names[0] ?? ""
    this.out = new SeriesBuilder(this.extraColumns, this.capacity)
    this.roles = roles
    this.standard = roles.join() === [TIME, OPEN, HIGH, LOW, CLOSE, VOLUME].join()
    this.line++
    return true
  }

  /** End of the current unquoted field: its delimiter. */
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
