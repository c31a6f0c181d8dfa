/**
 * The one merge rule of the store (KTRDR had three): stored rows and new bars become one ascending series with unique
 * timestamps. On equal timestamps the new bar wins unless `overwrite` is false; a replaced row keeps its extra
 * columns, new rows get empty extras. Duplicates inside one input keep the last occurrence (KTRDR's repair rule).
 */
import type { Bar } from "./Bar.ts"
import { NO_EXTRAS, type BarSeries, type ParsedBarCsv } from "./barCsv.ts"

export interface MergeOutcome {
  readonly series: BarSeries
  /** Timestamps that were not stored before. */
  readonly added: number
  /** Stored timestamps whose bar was replaced by a new one (0 when overwrite is false). */
  readonly replaced: number
  /** False when the merged series is identical to the stored one, so a save can be skipped. */
  readonly changed: boolean
}

const strictlyAscending = (bars: ReadonlyArray<Bar>): boolean => {
  for (let i = 1; i < bars.length; i++) if (bars[i]!.time <= bars[i - 1]!.time) return false
  return true
}

/** Indices of the rows to keep, in time order, the last of equal timestamps winning (Array.sort is stable). */
const orderKeepLast = (bars: ReadonlyArray<Bar>): Array<number> => {
  const idx = Array.from(bars, (_, i) => i).sort((a, b) => bars[a]!.time - bars[b]!.time)
  const keep: Array<number> = []
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!
    const next = idx[k + 1]
    if (next === undefined || bars[next]!.time !== bars[i]!.time) keep.push(i)
  }
  return keep
}

/** Sorted, unique series (the form the store writes); `changed` says whether anything moved or went. */
export const normaliseSeries = (series: BarSeries): { readonly series: BarSeries; readonly changed: boolean } => {
  // a parsed file already counted its disorder: no second 1M-row pass (~10 ms of pointer chasing) when it has none
  const counted = series as Partial<ParsedBarCsv>
  if ((counted.outOfOrder === 0 && counted.duplicates === 0) || strictlyAscending(series.bars)) {
    return { series, changed: false }
  }
  const keep = orderKeepLast(series.bars)
  return {
    series: {
      bars: keep.map((i) => series.bars[i]!),
      extraColumns: series.extraColumns,
      extras: keep.map((i) => series.extras[i]!)
    },
    changed: true
  }
}

export const sortUniqueBars = (bars: ReadonlyArray<Bar>): ReadonlyArray<Bar> =>
  strictlyAscending(bars) ? bars : orderKeepLast(bars).map((i) => bars[i]!)

/** First index ≥ from whose time is ≥ t. */
const lowerBound = (bars: ReadonlyArray<Bar>, t: number, from: number): number => {
  let lo = from, hi = bars.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (bars[mid]!.time < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** One array from many, copied natively in batches (a spread of too many arguments would overflow the stack). */
const flatten = <A>(parts: ReadonlyArray<ReadonlyArray<A>>): Array<A> => {
  let out: Array<A> = []
  for (let k = 0; k < parts.length; k += 4096) out = out.concat(...parts.slice(k, k + 4096))
  return out
}

export const sameBar = (a: Bar, b: Bar): boolean =>
  a.time === b.time && Object.is(a.open, b.open) && Object.is(a.high, b.high) && Object.is(a.low, b.low) &&
  Object.is(a.close, b.close) && a.volume === b.volume

export const mergeBars = (stored: BarSeries, incoming: ReadonlyArray<Bar>, overwrite = true): MergeOutcome => {
  const base = normaliseSeries(stored)
  const old = base.series
  const fresh = sortUniqueBars(incoming)
  const blank = old.extraColumns.length === 0 ? NO_EXTRAS : Object.freeze(old.extraColumns.map(() => ""))
  const ob = old.bars
  const first = fresh[0]
  const lastOld = ob[ob.length - 1]
  if (first === undefined) return { series: old, added: 0, replaced: 0, changed: base.changed }
  if (lastOld === undefined || first.time > lastOld.time) { // appending after the last stored bar: the common tail load
    return {
      series: {
        bars: ob.concat(fresh),
        extraColumns: old.extraColumns,
        extras: old.extras.concat(fresh.map(() => blank))
      },
      added: fresh.length,
      replaced: 0,
      changed: true
    }
  }
  // Where each new bar lands: on a stored timestamp (replace) or before stored index p (insert).
  const at = new Array<number>(fresh.length)
  const hit = new Array<boolean>(fresh.length)
  let midInserts = false
  for (let j = 0, i = 0; j < fresh.length; j++) {
    const t = fresh[j]!.time
    const p = lowerBound(ob, t, i)
    at[j] = p
    hit[j] = ob[p]?.time === t
    if (!hit[j] && p < ob.length) midInserts = true
    i = p
  }
  let added = 0, replaced = 0
  let changed = base.changed
  const replace = (j: number, o: Bar): Bar => {
    const n = fresh[j]!
    if (!overwrite) return o
    replaced++
    if (!sameBar(o, n)) changed = true
    return n
  }
  let bars: Array<Bar>
  let extras: ReadonlyArray<ReadonlyArray<string>>
  if (!midInserts) {
    // replacements plus bars after the end (a re-fetched tail): one native copy, patched in place; the stored
    // extras rows stay where they are, so their array is reused. Milliseconds for a 1M-row series.
    bars = ob.slice()
    const appended: Array<Bar> = []
    for (let j = 0; j < fresh.length; j++) {
      if (hit[j]) bars[at[j]!] = replace(j, ob[at[j]!]!)
      else appended.push(fresh[j]!)
    }
    added = appended.length
    if (added > 0) bars = bars.concat(appended)
    extras = added > 0 ? old.extras.concat(appended.map(() => blank)) : old.extras
  } else {
    // new bars between stored ones: copy the stored runs between them with native slices
    const barParts: Array<ReadonlyArray<Bar>> = []
    const extraParts: Array<ReadonlyArray<ReadonlyArray<string>>> = []
    let i = 0
    for (let j = 0; j < fresh.length; j++) {
      const p = at[j]!
      if (p > i) {
        barParts.push(ob.slice(i, p))
        extraParts.push(old.extras.slice(i, p))
      }
      if (hit[j]) {
        barParts.push([replace(j, ob[p]!)])
        extraParts.push([old.extras[p]!])
        i = p + 1
      } else {
        barParts.push([fresh[j]!])
        extraParts.push([blank])
        added++
        i = p
      }
    }
    barParts.push(ob.slice(i))
    extraParts.push(old.extras.slice(i))
    bars = flatten(barParts)
    extras = flatten(extraParts)
  }
  return { series: { bars, extraColumns: old.extraColumns, extras }, added, replaced, changed: changed || added > 0 }
}
