/**
 * The one merge rule of the store (KTRDR had three): stored rows and new bars become one ascending series with unique
 * timestamps. On equal timestamps the new bar wins unless `overwrite` is false; a replaced row keeps its extra
 * columns, new rows get empty extras. Duplicates inside one input keep the last occurrence (KTRDR's repair rule).
 *
 * Columnar: the merge walks two time columns and copies the runs between insertions with TypedArray.set — a native
 * memcpy per run and column — so merging a segment into a million-bar series allocates six flat arrays, no objects.
 */
import type { ParsedBarCsv } from "./barCsv.ts"
import { type BarSeries, lowerBound, sameRow, strictlyAscending, takeRows } from "./barSeries.ts"

export interface MergeOutcome {
  readonly series: BarSeries
  /** Timestamps that were not stored before. */
  readonly added: number
  /** Stored timestamps whose bar was replaced by a new one (0 when overwrite is false). */
  readonly replaced: number
  /** False when the merged series is identical to the stored one, so a save can be skipped. */
  readonly changed: boolean
}

/** Row indices in time order, the last of equal timestamps winning (ties broken by row, so the order is stable). */
const orderKeepLast = (time: Float64Array, n: number): Array<number> => {
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[a]! - time[b]! || a - b)
  const keep: Array<number> = []
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!
    const next = idx[k + 1]
    if (next === undefined || time[next] !== time[i]) keep.push(i)
  }
  return keep
}

/** Sorted, unique series (the form the store writes); `changed` says whether anything moved or went. */
export const normaliseSeries = (series: BarSeries): { readonly series: BarSeries; readonly changed: boolean } => {
  // a parsed file already counted its disorder: no second pass over a million times when it has none
  const counted = series as Partial<ParsedBarCsv>
  if ((counted.outOfOrder === 0 && counted.duplicates === 0) || strictlyAscending(series.time, series.length)) {
    return { series, changed: false }
  }
  return { series: takeRows(series, orderKeepLast(series.time, series.length)), changed: true }
}

export const sortUniqueSeries = (s: BarSeries): BarSeries =>
  strictlyAscending(s.time, s.length) ? s : takeRows(s, orderKeepLast(s.time, s.length))

const COLUMNS = ["time", "open", "high", "low", "close", "volume"] as const

/** Output columns of n rows, filled run by run. */
class Columns {
  readonly cols: Record<(typeof COLUMNS)[number], Float64Array>
  readonly extras: Array<Array<string>>
  at = 0
  /** `at` when the merge last yielded. */
  yieldedAt = 0

  constructor(readonly n: number, extraColumns: number) {
    this.cols = {
      time: new Float64Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n)
    }
    this.extras = Array.from({ length: extraColumns }, () => new Array<string>(n))
  }

  /** Rows [from, to) of s; its extras too when `ownExtras` (the stored series), else empty strings. */
  run(s: BarSeries, from: number, to: number, ownExtras: boolean): void {
    if (to <= from) return
    for (const k of COLUMNS) this.cols[k].set(s[k].subarray(from, to), this.at)
    for (let c = 0; c < this.extras.length; c++) {
      const out = this.extras[c]!, col = s.extras[c]
      for (let i = from, j = this.at; i < to; i++, j++) out[j] = ownExtras ? col?.[i] ?? "" : ""
    }
    this.at += to - from
  }

  /** Row i of `values` with the extras of row e of `stored`. */
  row(values: BarSeries, i: number, stored: BarSeries, e: number): void {
    for (const k of COLUMNS) this.cols[k][this.at] = values[k][i]!
    for (let c = 0; c < this.extras.length; c++) this.extras[c]![this.at] = stored.extras[c]?.[e] ?? ""
    this.at++
  }

  done(extraColumns: ReadonlyArray<string>): BarSeries {
    return { length: this.n, ...this.cols, extraColumns, extras: this.extras }
  }
}

/** Rows copied between two yields of mergeSteps: a few milliseconds, page faults of fresh memory included. */
const STEP_ROWS = 65_536

/** Copies rows [from, to) of s in pieces, yielding whenever STEP_ROWS rows were written since the last yield. */
function* copyRun(out: Columns, s: BarSeries, from: number, to: number, ownExtras: boolean): Generator<void> {
  for (let a = from; a < to;) {
    const b = Math.min(to, a + STEP_ROWS - (out.at - out.yieldedAt))
    out.run(s, a, b, ownExtras)
    a = b
    if (out.at - out.yieldedAt >= STEP_ROWS) {
      out.yieldedAt = out.at
      yield
    }
  }
}

/**
 * The merge as steps: it yields after every ~64k rows copied, so a caller driving it with an event-loop turn per
 * yield (layers/eventLoop.ts `stepwise`) never holds the loop for a whole million-row copy — on these machines the
 * first touch of 48 MB of fresh columns alone costs a few hundred milliseconds.
 */
export function* mergeSteps(stored: BarSeries, incoming: BarSeries, overwrite = true): Generator<void, MergeOutcome> {
  const base = normaliseSeries(stored)
  const old = base.series
  const fresh = sortUniqueSeries(incoming)
  const n = old.length, m = fresh.length
  if (m === 0) return { series: old, added: 0, replaced: 0, changed: base.changed }
  const ot = old.time, ft = fresh.time
  // Where each new bar lands: on a stored timestamp (hit) or before stored index at[j].
  const at = new Int32Array(m)
  const hit = new Uint8Array(m)
  let hits = 0
  for (let j = 0, i = 0; j < m; j++) {
    const p = lowerBound(ot, ft[j]!, i, n)
    at[j] = p
    if (p < n && ot[p] === ft[j]) {
      hit[j] = 1
      hits++
    }
    i = p
  }
  const added = m - hits
  let changed = base.changed || added > 0
  const out = new Columns(n + added, old.extraColumns.length)
  let i = 0
  for (let j = 0; j < m;) {
    const p = at[j]!
    yield* copyRun(out, old, i, p, true)
    if (hit[j]) {
      if (overwrite && !changed && !sameRow(old, p, fresh, j)) changed = true
      out.row(overwrite ? fresh : old, overwrite ? j : p, old, p)
      i = p + 1
      j++
    } else { // new bars landing together (a whole appended tail is one run): one copy per column
      let k = j + 1
      while (k < m && hit[k] === 0 && at[k] === p) k++
      yield* copyRun(out, fresh, j, k, false)
      i = p
      j = k
    }
  }
  yield* copyRun(out, old, i, n, true)
  return {
    series: out.done(old.extraColumns),
    added,
    replaced: overwrite ? hits : 0,
    changed
  }
}

/** mergeSteps run to the end in one go (tests, small series). */
export const mergeBars = (stored: BarSeries, incoming: BarSeries, overwrite = true): MergeOutcome => {
  const steps = mergeSteps(stored, incoming, overwrite)
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
  }
}
