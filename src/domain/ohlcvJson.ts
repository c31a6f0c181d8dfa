/**
 * The bytes of KTRDR's OHLCV answer (`{success, data: {dates, ohlcv, points, metadata}, error}`), written from the
 * columns of an ascending series straight into bytes: `dates` as naive UTC seconds, each `ohlcv` row as
 * `[open,high,low,close,volume]` with a missing price as null and an absent or negative volume as 0 (KTRDR serves
 * 0). Numbers are printed exactly as JSON.stringify prints them. Pure: slicing, yielding and streaming are the HTTP
 * layer's business (src/http/barsResponse.ts).
 */
import type { BarSeries } from "./barSeries.ts"
import { ByteWriter } from "./byteWriter.ts"

const COMMA = 44, QUOTE = 34, OPEN = 91, CLOSE = 93, ZERO = 48
const NULL = "null"

/** The rows of a series an answer holds: positions [from, to) of `index` when given, else rows [from, to). */
export interface RowSelection {
  readonly from: number
  readonly to: number
  readonly index?: Uint32Array
}

export const selected = (s: RowSelection): number => s.to - s.from

/** Series row at position k of the selection. */
export const rowAt = (s: RowSelection, k: number): number => (s.index === undefined ? k : s.index[k]!)

export class OhlcvJsonWriter extends ByteWriter {
  /** `"date",…` for positions [a, b) of the selection; `lead` puts a comma before the first one. */
  dates(series: BarSeries, sel: RowSelection, a: number, b: number, lead: boolean): Uint8Array {
    this.reset()
    const time = series.time
    for (let k = a; k < b; k++) {
      this.ensure(24)
      if (lead || k > a) this.byte(COMMA)
      this.byte(QUOTE)
      this.naiveSecond(time, rowAt(sel, k))
      this.byte(QUOTE)
    }
    return this.take()
  }

  /** `[o,h,l,c,v],…` for positions [a, b) of the selection. */
  rows(series: BarSeries, sel: RowSelection, a: number, b: number, lead: boolean): Uint8Array {
    this.reset()
    const volume = series.volume
    for (let k = a; k < b; k++) {
      const i = rowAt(sel, k)
      this.ensure(140)
      if (lead || k > a) this.byte(COMMA)
      this.byte(OPEN)
      this.ohlcThenComma(series, i, NULL)
      if (volume[i]! > 0) this.numberAt(volume, i)
      else this.byte(ZERO) // NaN (absent) and negatives are 0, as KTRDR serves them
      this.byte(CLOSE)
    }
    return this.take()
  }
}

/** Rows with all four prices present. */
export const incompleteRows = (series: BarSeries, sel: RowSelection): number => {
  const { open, high, low, close } = series
  let n = 0
  for (let k = sel.from; k < sel.to; k++) {
    const i = rowAt(sel, k)
    // NaN fails every comparison; ±Infinity never reaches the store
    if (!(open[i]! === open[i]! && high[i]! === high[i]! && low[i]! === low[i]! && close[i]! === close[i]!)) n++
  }
  return n
}

/** Rows per piece of output: a few milliseconds of formatting, then the caller may give the event loop a turn. */
export const ROWS_PER_PIECE = 8_192

const ascii = (s: string) => new TextEncoder().encode(s)

/**
 * The whole answer as a sequence of byte pieces, produced lazily: the opening, `dates` in pieces, the middle,
 * `ohlcv` in pieces, then the closing with the metadata (already known: it describes the selection, not the bytes).
 */
export function* ohlcvPieces(series: BarSeries, sel: RowSelection, metadataJson: string): Generator<Uint8Array> {
  const w = new OhlcvJsonWriter(ROWS_PER_PIECE * 32)
  yield ascii("{\"success\":true,\"data\":{\"dates\":[")
  for (let a = sel.from; a < sel.to; a += ROWS_PER_PIECE) {
    yield w.dates(series, sel, a, Math.min(sel.to, a + ROWS_PER_PIECE), a > sel.from)
  }
  yield ascii("],\"ohlcv\":[")
  for (let a = sel.from; a < sel.to; a += ROWS_PER_PIECE) {
    yield w.rows(series, sel, a, Math.min(sel.to, a + ROWS_PER_PIECE), a > sel.from)
  }
  yield new TextEncoder().encode(`],"points":null,"metadata":${metadataJson}},"error":null}`)
}
