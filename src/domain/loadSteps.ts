/**
 * A remote load as steps, with the values that pass between them: the plan (everything decided before bars are
 * asked for), what one segment's fetch gave, and the running totals. Plain data, so a cluster runner can keep each
 * step's result durably and another runner can go on from it.
 */
import type { Bar } from "./Bar.ts"
import type { IbError } from "./errors.ts"
import type { Instrument } from "./Instrument.ts"
import type { LoadRequest } from "./loadTypes.ts"
import { checkQuality } from "./QualityCheck.ts"
import { addQuality, emptyQuality, mergeQuality, type QualitySummary } from "./qualitySummary.ts"
import type { Segment } from "./SegmentPlanner.ts"

export interface LoadPlan {
  readonly request: LoadRequest
  readonly instrument: Instrument
  readonly timeframe: string
  /** The range the load fills, [from, to); empty when from ≥ to. */
  readonly from: number
  readonly to: number
  /** The clock the plan was made at: the same expected bars when the result is computed later. */
  readonly now: number
  readonly head: number
  readonly defaultHistory: string | null
  readonly useRTH: boolean
  readonly whatToShow: "TRADES" | "MIDPOINT" | "BID" | "ASK" | "BID_ASK" | "ADJUSTED_LAST"
  readonly segments: ReadonlyArray<Segment>
  /** Bars stored when the plan was made (KTRDR's `cached_before`). */
  readonly storedBars: number
}

/** One segment's fetch: the bars it was planned for (maybe none), IB's "no data", or a failure that leaves a hole. */
export type SegmentFetch =
  | { readonly _tag: "bars"; readonly bars: ReadonlyArray<Bar> }
  | { readonly _tag: "noData" }
  | { readonly _tag: "failed"; readonly error: IbError }

export interface SegmentTotals {
  readonly fetched: number
  readonly empty: number
  readonly failed: number
  readonly bars: number
  readonly newBars: number
  readonly checkpoints: number
  readonly quality: QualitySummary
}

export const noSegments: SegmentTotals = {
  fetched: 0,
  empty: 0,
  failed: 0,
  bars: 0,
  newBars: 0,
  checkpoints: 0,
  quality: emptyQuality
}

/** The totals with one more segment: KTRDR's quality checks run on its bars (volume only where IB reports one). */
export const countSegment = (c: SegmentTotals, got: SegmentFetch, volumeReported: boolean): SegmentTotals => {
  switch (got._tag) {
    case "failed":
      return { ...c, failed: c.failed + 1 }
    case "noData":
      return { ...c, fetched: c.fetched + 1, empty: c.empty + 1 }
    case "bars":
      return {
        ...c,
        fetched: c.fetched + 1,
        empty: c.empty + (got.bars.length === 0 ? 1 : 0),
        bars: c.bars + got.bars.length,
        quality: got.bars.length === 0 ? c.quality : addQuality(c.quality, checkQuality(got.bars, { volumeReported }))
      }
  }
}

export const addTotals = (a: SegmentTotals, b: SegmentTotals): SegmentTotals => ({
  fetched: a.fetched + b.fetched,
  empty: a.empty + b.empty,
  failed: a.failed + b.failed,
  bars: a.bars + b.bars,
  newBars: a.newBars + b.newBars,
  checkpoints: a.checkpoints + b.checkpoints,
  quality: mergeQuality(a.quality, b.quality)
})

const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ")

/** Progress after `done` of the plan's segments, the last one being segment `i`. */
export const fetchProgress = (done: number, segments: ReadonlyArray<Segment>, i: number, bars: number) => ({
  phase: "fetching_segments" as const,
  step: `Fetching segment ${done}/${segments.length} from IB`,
  percentage: 10 + (86 * done) / Math.max(1, segments.length),
  segmentsCompleted: done,
  barsFetched: bars,
  ...(segments[i] === undefined ? {} : {
    currentSegment: `Segment ${i + 1}/${segments.length}: ${minute(segments[i].covers[0])} to ${
      minute(segments[i].covers[1])
    }`
  })
})
