/**
 * PostgreSQL's binary COPY format for bars, both ways, with no per-row objects or strings: rows of
 * (time int8, open, high, low, close, volume float8 [, extras text[]]) written straight from the columns of a
 * BarSeries, and read straight into a SeriesBuilder's columns as the server streams them.
 *
 * Format (PostgreSQL docs, "COPY … Binary Format"): an 11-byte signature, int32 flags, int32 extension length; per
 * row an int16 field count, then per field an int32 byte length (-1 = NULL) and the value in network order; an
 * int16 -1 trailer. Times are epoch ms (integers within ±2^53), carried as int8 split into two 32-bit halves.
 */
import type { BarSeries, SeriesBuilder } from "../domain/barSeries.ts"

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00] // "PGCOPY\n\377\r\n\0"
const HEADER = SIGNATURE.length + 8
const TWO32 = 4_294_967_296

/** Bytes of one numeric row: field count, then six (length, 8-byte value) fields. */
export const ROW_BYTES = 2 + 6 * 12

/** A CopyData protocol message holding one numeric row: code, int32 length, the row. */
const COPY_DATA = 0x64
const MESSAGE_BYTES = 1 + 4 + ROW_BYTES

/** A row's leading series id (int4), for COPY straight into ktrdr_bars. */
const ID_BYTES = 8

const header = (v: DataView, buf: Buffer): number => {
  buf.set(SIGNATURE, 0)
  v.setInt32(SIGNATURE.length, 0)
  v.setInt32(SIGNATURE.length + 4, 0)
  return HEADER
}

/** Writes time (int8) and the five float8 fields of row i at p; returns the position after them. */
const numericFields = (v: DataView, p: number, s: BarSeries, i: number): number => {
  const t = s.time[i]!, hi = Math.floor(t / TWO32)
  v.setInt32(p, 8)
  v.setInt32(p + 4, hi)
  v.setUint32(p + 8, t - hi * TWO32)
  v.setInt32(p + 12, 8)
  v.setFloat64(p + 16, s.open[i]!)
  v.setInt32(p + 24, 8)
  v.setFloat64(p + 28, s.high[i]!)
  v.setInt32(p + 36, 8)
  v.setFloat64(p + 40, s.low[i]!)
  v.setInt32(p + 48, 8)
  v.setFloat64(p + 52, s.close[i]!)
  v.setInt32(p + 60, 8)
  v.setFloat64(p + 64, s.volume[i]!)
  return p + 72
}

/**
 * Rows [from, to) of `s`'s six numeric columns as one binary COPY stream (header and trailer included), each row
 * led by `seriesId` when given (COPY into ktrdr_bars) or not (into the staging table).
 */
export const encodeBars = (s: BarSeries, seriesId?: number, from = 0, to = s.length): Buffer => {
  const withId = seriesId !== undefined
  const rowBytes = ROW_BYTES + (withId ? ID_BYTES : 0)
  const buf = Buffer.allocUnsafe(HEADER + (to - from) * rowBytes + 2)
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let p = header(v, buf)
  for (let i = from; i < to; i++) {
    if (withId) {
      v.setInt16(p, 7)
      v.setInt32(p + 2, 4)
      v.setInt32(p + 6, seriesId)
      numericFields(v, p + 10, s, i)
    } else {
      v.setInt16(p, 6)
      numericFields(v, p + 2, s, i)
    }
    p += rowBytes
  }
  v.setInt16(p, -1)
  return buf
}

const textEncoder = new TextEncoder()
const TEXT_OID = 25

/**
 * `write`'s rows for ktrdr_bars: series id, the numeric fields and the extras as one text[] per row (NULL when the
 * series has none, as the store keeps rows without extras), in chunks of about `chunkBytes` so a long series never
 * needs one huge buffer.
 */
export function* encodeRows(s: BarSeries, seriesId: number, chunkBytes = 4 << 20): Generator<Buffer> {
  const cols = s.extras
  let out = Buffer.allocUnsafe(chunkBytes)
  let v = new DataView(out.buffer, out.byteOffset, out.byteLength)
  const room = (p: number, n: number) => {
    if (p + n <= out.length) return
    const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, p + n))
    out.copy(bigger, 0, 0, p)
    out = bigger
    v = new DataView(out.buffer, out.byteOffset, out.byteLength)
  }
  let p = header(v, out)
  const encoded: Array<Uint8Array> = []
  for (let i = 0; i < s.length; i++) {
    let arrayBytes = 20 // ndim, has-null flag, element type, then one dimension's size and lower bound
    for (let c = 0; c < cols.length; c++) {
      encoded[c] = textEncoder.encode(cols[c]![i]!)
      arrayBytes += 4 + encoded[c]!.length
    }
    room(p, ROW_BYTES + ID_BYTES + 4 + arrayBytes)
    v.setInt16(p, 8)
    v.setInt32(p + 2, 4)
    v.setInt32(p + 6, seriesId)
    p = numericFields(v, p + 10, s, i)
    if (cols.length === 0) {
      v.setInt32(p, -1)
      p += 4
    } else {
      v.setInt32(p, arrayBytes)
      v.setInt32(p + 4, 1)
      v.setInt32(p + 8, 0)
      v.setInt32(p + 12, TEXT_OID)
      v.setInt32(p + 16, cols.length)
      v.setInt32(p + 20, 1)
      p += 24
      for (let c = 0; c < cols.length; c++) {
        const e = encoded[c]!
        v.setInt32(p, e.length)
        out.set(e, p + 4)
        p += 4 + e.length
      }
    }
    if (p >= chunkBytes) {
      yield out.subarray(0, p)
      out = Buffer.allocUnsafe(chunkBytes)
      v = new DataView(out.buffer, out.byteOffset, out.byteLength)
      p = 0
    }
  }
  room(p, 2)
  v.setInt16(p, -1)
  yield out.subarray(0, p + 2)
}

const textDecoder = new TextDecoder()

/**
 * Decodes a binary COPY stream of (time int8, open … volume float8 [, extras text[]]) rows, chunk by chunk as they
 * arrive (a row may straddle two chunks), into `builder`; `withExtras` when the rows carry the seventh field.
 */
export class BarCopyDecoder {
  private pending: Buffer | undefined
  private header = false
  done = false

  constructor(private readonly builder: SeriesBuilder, private readonly withExtras: boolean) {}

  /** The next bytes of the stream, any size (a row may straddle two pushes). */
  push(chunk: Buffer): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = undefined
    let p = 0
    if (!this.header) {
      if (buf.length < HEADER) {
        this.pending = buf
        return
      }
      for (let k = 0; k < SIGNATURE.length; k++) {
        if (buf[k] !== SIGNATURE[k]) throw new Error("not a binary COPY stream")
      }
      const extension = buf.readInt32BE(SIGNATURE.length + 4)
      if (buf.length < HEADER + extension) {
        this.pending = buf
        return
      }
      p = HEADER + extension
      this.header = true
    }
    p = this.withExtras
      ? this.rowsWithExtras(buf, p)
      : this.rows(new DataView(buf.buffer, buf.byteOffset, buf.byteLength), p, buf.length)
    if (p < buf.length && !this.done) this.pending = buf.subarray(p)
  }

  /**
   * Bytes [start, end) of `buf` (`view` spans all of `buf`): the per-message entry of pgCopyOut, which calls it once
   * per CopyData message — a row, as PostgreSQL sends them — so the common case decodes in place, allocating nothing.
   */
  feed(buf: Buffer, view: DataView, start: number, end: number): void {
    if (this.pending !== undefined || !this.header || this.withExtras) return this.push(buf.subarray(start, end))
    const p = this.rows(view, start, end)
    if (p < end && !this.done) this.pending = buf.subarray(p, end)
  }

  /**
   * The run of one-row CopyData protocol messages (code 'd', length, one 6-field row: how PostgreSQL sends a binary
   * COPY) starting at `p` in `v`, decoded where they lie — the reader's hot loop, one bounds check per row; where the
   * run stops (at once unless the stream is past its header and between rows).
   */
  rowMessages(v: DataView, p: number, end: number): number {
    if (this.pending !== undefined || !this.header || this.withExtras) return p
    const b = this.builder
    b.reserve(Math.floor((end - p) / MESSAGE_BYTES))
    const { time, open, high, low, close, volume } = b
    let at = b.length
    while (
      p + MESSAGE_BYTES <= end && v.getUint8(p) === COPY_DATA && v.getUint32(p + 1) === 4 + ROW_BYTES &&
      v.getInt16(p + 5) === 6
    ) {
      const q = p + 5
      time[at] = v.getInt32(q + 6) * TWO32 + v.getUint32(q + 10)
      open[at] = v.getFloat64(q + 18)
      high[at] = v.getFloat64(q + 30)
      low[at] = v.getFloat64(q + 42)
      close[at] = v.getFloat64(q + 54)
      volume[at] = v.getFloat64(q + 66)
      at++
      p += MESSAGE_BYTES
    }
    b.length = at
    return p
  }

  /** The fixed-size rows in [start, end) of `v`: a tight loop through a DataView (inlined by V8). */
  private rows(v: DataView, start: number, end: number): number {
    const b = this.builder
    b.reserve(Math.floor((end - start) / ROW_BYTES))
    const { time, open, high, low, close, volume } = b
    let p = start, at = b.length
    while (p + 2 <= end) {
      const fields = v.getInt16(p)
      if (fields === -1) {
        this.done = true
        p += 2
        break
      }
      if (fields !== 6) throw new Error(`binary COPY row has ${fields} fields, expected 6`)
      if (p + ROW_BYTES > end) break
      time[at] = v.getInt32(p + 6) * TWO32 + v.getUint32(p + 10)
      open[at] = v.getFloat64(p + 18)
      high[at] = v.getFloat64(p + 30)
      low[at] = v.getFloat64(p + 42)
      close[at] = v.getFloat64(p + 54)
      volume[at] = v.getFloat64(p + 66)
      at++
      p += ROW_BYTES
    }
    b.length = at
    return p
  }

  /** Rows with a trailing text[] (NULL → empty extras): variable length, decoded one by one. */
  private rowsWithExtras(buf: Buffer, start: number): number {
    const b = this.builder
    let p = start
    while (p + 2 <= buf.length) {
      const fields = buf.readInt16BE(p)
      if (fields === -1) {
        this.done = true
        return p + 2
      }
      if (fields !== 7) throw new Error(`binary COPY row has ${fields} fields, expected 7`)
      if (p + ROW_BYTES + 4 > buf.length) return p
      const arrayBytes = buf.readInt32BE(p + ROW_BYTES)
      const end = p + ROW_BYTES + 4 + Math.max(arrayBytes, 0)
      if (end > buf.length) return p
      b.push(
        buf.readInt32BE(p + 6) * TWO32 + buf.readUInt32BE(p + 10),
        buf.readDoubleBE(p + 18),
        buf.readDoubleBE(p + 30),
        buf.readDoubleBE(p + 42),
        buf.readDoubleBE(p + 54),
        buf.readDoubleBE(p + 66)
      )
      b.pushExtras(arrayBytes < 0 ? [] : textArray(buf, p + ROW_BYTES + 4))
      p = end
    }
    return p
  }
}

/** A one-dimensional text[] in binary form (NULL elements as ""). */
const textArray = (buf: Buffer, at: number): Array<string> => {
  const ndim = buf.readInt32BE(at)
  if (ndim === 0) return []
  const n = buf.readInt32BE(at + 12)
  const out: Array<string> = []
  let p = at + 12 + ndim * 8
  for (let k = 0; k < n; k++) {
    const len = buf.readInt32BE(p)
    p += 4
    if (len < 0) {
      out.push("")
      continue
    }
    out.push(textDecoder.decode(buf.subarray(p, p + len)))
    p += len
  }
  return out
}
