/**
 * The bar store's contract, whatever keeps the bars: KTRDR's CSV files (csvBarStore.ts, the embedded default) or
 * PostgreSQL. Every implementation validates keys and bars with domain/seriesRules.ts and merges with exactly the
 * rule of domain/barMerge.ts, so DataManager, HTTP, CLI and the runtime cannot tell them apart.
 */
import type { Effect } from "effect"
import type { ParsedBarCsv } from "../domain/barCsv.ts"
import type { BarSeries } from "../domain/barSeries.ts"
import type { CorruptData, InvalidInput, NotFound, StorageError } from "../domain/dataErrors.ts"
import type { TimeframeId } from "../domain/Timeframe.ts"

/** Inclusive bounds, epoch ms UTC (KTRDR §1.5: `start <= t <= end`). */
export interface ReadRange {
  readonly start?: number
  readonly end?: number
}

export interface MergeOptions {
  /** Equal timestamps: the new bar wins (default), or the stored one when false. */
  readonly overwrite?: boolean
}

export interface MergeResult {
  readonly added: number
  readonly replaced: number
  readonly total: number
  /** null only when the series is still empty. */
  readonly first: number | null
  readonly last: number | null
}

export interface StoredSeries {
  readonly series: string
  readonly timeframe: TimeframeId
  /** Where it lives, for people: the CSV file's path, or `postgres:<db>/<series>_<tf>`. */
  readonly file: string
}

/** What a read gives: columns plus what the stored form said about itself (ordering defects, index header). */
export type StoredBars = ParsedBarCsv

export interface BarStoreShape {
  /** Bars in [start, end], stored order; ordering/duplicate/missing counts describe the whole series. */
  readonly read: (
    series: string,
    timeframe: string,
    range?: ReadRange
  ) => Effect.Effect<StoredBars, InvalidInput | NotFound | CorruptData | StorageError>
  /** First and last stored timestamps without reading the bars. NotFound when missing or empty. */
  readonly range: (
    series: string,
    timeframe: string
  ) => Effect.Effect<
    { readonly first: number; readonly last: number },
    InvalidInput | NotFound | CorruptData | StorageError
  >
  /**
   * Stored ∪ new bars, sorted and unique, saved atomically; skipped when nothing changes. The incoming series'
   * extra columns are ignored: a replaced row keeps its stored extras, a new row gets empty ones.
   */
  readonly merge: (
    series: string,
    timeframe: string,
    bars: BarSeries,
    options?: MergeOptions
  ) => Effect.Effect<MergeResult, InvalidInput | CorruptData | StorageError>
  /** Replaces the series (sorted, unique; the last of equal timestamps kept). Refuses to replace a corrupt one. */
  readonly write: (
    series: string,
    timeframe: string,
    data: BarSeries
  ) => Effect.Effect<MergeResult, InvalidInput | CorruptData | StorageError>
  /** Every stored series with a valid key and a known timeframe. */
  readonly list: () => Effect.Effect<ReadonlyArray<StoredSeries>, StorageError>
  /**
   * A token that changes whenever the series changes (any writer, any process); undefined when it is not stored.
   * Cheap enough for every request: the HTTP cache checks it before serving cached bytes.
   */
  readonly version: (
    series: string,
    timeframe: string
  ) => Effect.Effect<string | undefined, InvalidInput | StorageError>
}
