/**
 * Writing KTRDR CSV: header `timestamp,open,high,low,close,volume[,extras]`, timestamps `YYYY-MM-DDTHH:MM:SSZ`
 * (milliseconds only if a bar has them, so nothing is lost), numbers exactly as `String(n)` writes them (the shortest
 * round-trip decimal), IB's "absent" volume as `-1` — distinguishable from 0, still a number to pandas/KTRDR —
 * and a missing (NaN) price as an empty field, as pandas writes it.
 *
 * Rows are encoded straight into a reusable byte buffer, slice by slice: no per-row strings, no megabyte cons-strings
 * kept alive until a copy to bytes (those made the young-generation GC copy them and stalled the event loop).
 */
import type { BarSeries } from "./barSeries.ts"
import { ByteWriter } from "./byteWriter.ts"

const NEEDS_QUOTES = /[",\r\n]/
const COMMA = 44, LF = 10
const utf8 = new TextEncoder()

/** RFC 4180: quote a field only when it holds a delimiter, a quote or a line break. */
export const quoteField = (s: string): string => (NEEDS_QUOTES.test(s) ? `"${s.replaceAll("\"", "\"\"")}"` : s)

export const formatHeader = (extraColumns: ReadonlyArray<string>): string =>
  ["timestamp", "open", "high", "low", "close", "volume", ...extraColumns.map(quoteField)].join(",") + "\n"

export class RowEncoder extends ByteWriter {
  /** Rows [from, to) as UTF-8 bytes; the view is valid until the next call (the store writes it before that). */
  encode(series: BarSeries, from: number, to: number): Uint8Array {
    this.reset()
    const withExtras = series.extraColumns.length > 0
    const { time, volume } = series
    for (let i = from; i < to; i++) {
      this.ensure(160)
      this.isoUtc(time, i)
      this.byte(COMMA)
      this.ohlcThenComma(series, i, "")
      if (volume[i] === volume[i]) this.numberAt(volume, i)
      else this.ascii("-1") // absent
      if (withExtras) {
        for (const col of series.extras) {
          const text = quoteField(col[i] ?? "")
          this.ensure(text.length * 3 + 2)
          this.byte(COMMA)
          this.pos += utf8.encodeInto(text, this.buf.subarray(this.pos)).written
        }
      }
      this.byte(LF)
    }
    return this.view()
  }
}

/** Whole-file text (tests, small series); the store streams RowEncoder slices instead. */
export const formatBarCsv = (series: BarSeries): string =>
  formatHeader(series.extraColumns) + new TextDecoder().decode(new RowEncoder().encode(series, 0, series.length))
