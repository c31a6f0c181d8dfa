/**
 * Price outliers as a trader means them: bad prints — a price that jumps away from its neighbours and
 * comes straight back. KTRDR z-scored price *levels* against the segment's mean, so any trend (every
 * real series has some) made dozens of "outliers" out of clean bars. Here moves are log returns, judged
 * against a robust *local* scale: 1.4826 × the MAD of the close-to-close returns of the bars around
 * (± LOCAL bars, the bar's own two returns left out), floored by their mean absolute return and 1 bp —
 * a quiet pre-market hour and a busy open are different regimes, and stale repeated quotes (returns of
 * exactly 0) must not make one tick a spike. Only a move that reverts is a print:
 * - close: the return into the bar and the return out of it both exceed the threshold, opposite signs,
 *   and the next close lands back within a quarter of the jump (a move that only partly retraces — a
 *   session open, news — is a move);
 * - high / low: the bar's extreme beyond its own body and both neighbours' extremes by the threshold, on
 *   a bar without a volume burst (≤ 3× the median volume of the bars around): a wick carried by real
 *   volume is trading (pre-market opens and closing auctions in KTRDR's own files look exactly like
 *   that), a bad tick is not.
 * First and last bars are never judged: a move nobody has seen revert is a move, not a print.
 */
import type { PriceColumn } from "./qualityMath.ts"

/** Robust z a spike must exceed: heavy-tailed real returns pass 6σ rarely, and almost never twice in a row. */
export const DEFAULT_SPIKE_THRESHOLD = 6
/** Bars on each side that set a bar's local scale and volume. */
const LOCAL = 20
/** A wick on more volume than this many times the local median is trading, not a print. */
const BURST = 3
/** How far back a reverting close must land, as a share of its jump. */
const REVERT = 0.25
const MIN_SCALE = 1e-4
/** Returns needed around a bar for a scale worth trusting. */
const MIN_RETURNS = 10

export interface Spike {
  readonly index: number
  readonly column: PriceColumn
  /** The spike's size in robust σ of the local returns. */
  readonly z: number
}

const ok = (x: number | undefined): x is number => x !== undefined && x > 0 && Number.isFinite(x)

const mid = (v: Array<number>): number => {
  v.sort((a, b) => a - b)
  const m = v.length >> 1
  return v.length % 2 === 1 ? v[m]! : (v[m - 1]! + v[m]!) / 2
}

/** The robust σ of the returns around bar k, leaving out its own two; NaN when too few to judge. */
const localScale = (ret: Float64Array, k: number): number => {
  const around: Array<number> = []
  for (let j = Math.max(1, k - LOCAL); j <= Math.min(ret.length - 1, k + 1 + LOCAL); j++) {
    if (j !== k && j !== k + 1 && Number.isFinite(ret[j]!)) around.push(ret[j]!)
  }
  if (around.length < MIN_RETURNS) return NaN
  let meanAbs = 0, moved = 0
  for (const x of around) {
    meanAbs += Math.abs(x)
    if (x !== 0) moved++
  }
  meanAbs = moved > 0 ? meanAbs / moved : 0
  const med = mid([...around])
  return Math.max(1.4826 * mid(around.map((x) => Math.abs(x - med))), meanAbs, MIN_SCALE)
}

const localMedianVolume = (volume: ArrayLike<number>, k: number): number => {
  const around: Array<number> = []
  for (let j = Math.max(0, k - LOCAL); j <= Math.min(volume.length - 1, k + LOCAL); j++) {
    if (j !== k && Number.isFinite(volume[j]!)) around.push(volume[j]!)
  }
  return around.length > 0 ? mid(around) : NaN
}

/**
 * The bad prints of a segment. Cheap on long series: the local scale is only computed for bars whose
 * move already exceeds the threshold at the 1 bp floor.
 */
export const findSpikes = (
  p: Readonly<Record<PriceColumn, Float64Array>>,
  threshold: number = DEFAULT_SPIKE_THRESHOLD,
  /** Volumes, NaN where absent; without them every wick is judged on price alone. */
  volume?: ArrayLike<number>
): ReadonlyArray<Spike> => {
  const { open, high, low, close } = p
  const n = close.length
  const ret = new Float64Array(n).fill(NaN)
  for (let k = 1; k < n; k++) if (ok(close[k]) && ok(close[k - 1])) ret[k] = Math.log(close[k]! / close[k - 1]!)
  const floor = threshold * MIN_SCALE
  const spikes: Array<Spike> = []
  for (let k = 1; k < n - 1; k++) {
    const into = ret[k]!, out = ret[k + 1]!
    const closeSize = Number.isFinite(into) && Number.isFinite(out) && Math.sign(into) === -Math.sign(out) &&
        Math.abs(into + out) <= REVERT * Math.abs(into)
      ? Math.min(Math.abs(into), Math.abs(out))
      : 0
    const hRef = Math.max(open[k]!, close[k]!, high[k - 1]!, high[k + 1]!)
    const highSize = ok(high[k]) && ok(hRef) ? Math.log(high[k]! / hRef) : 0
    const lRef = Math.min(open[k]!, close[k]!, low[k - 1]!, low[k + 1]!)
    const lowSize = ok(low[k]) && ok(lRef) ? Math.log(lRef / low[k]!) : 0
    if (Math.max(closeSize, highSize, lowSize) <= floor) continue
    const scale = localScale(ret, k)
    if (!(scale > 0)) continue
    const limit = threshold * scale
    if (closeSize > limit) spikes.push({ index: k, column: "close", z: closeSize / scale })
    if (highSize <= limit && lowSize <= limit) continue
    const v = volume?.[k]
    const burst = v !== undefined && Number.isFinite(v) && v > BURST * localMedianVolume(volume!, k)
    if (burst) continue
    if (highSize > limit) spikes.push({ index: k, column: "high", z: highSize / scale })
    if (lowSize > limit) spikes.push({ index: k, column: "low", z: lowSize / scale })
  }
  return spikes
}
