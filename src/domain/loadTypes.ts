/** The contract of a load: request, progress updates (KTRDR's phase names) and the result. */
import type { IbError } from "./errors.ts"
import type { CorruptData, InvalidInput, NotFound, StorageError } from "./dataErrors.ts"
import type { UnknownSymbol } from "./Instrument.ts"
import type { QualitySummary } from "./qualitySummary.ts"

export type LoadMode = "local" | "tail" | "backfill" | "full"

export interface LoadRequest {
  readonly symbol: string
  readonly timeframe: string
  readonly mode: LoadMode
  /** Epoch ms, inclusive. */
  readonly start?: number | undefined
  /** Epoch ms, exclusive for fetching; reads are inclusive. */
  readonly end?: number | undefined
  /**
   * Wait for a gateway that cannot be reached (reporting each attempt as progress) instead of failing
   * fast with IB 502. Default false.
   */
  readonly waitForGateway?: boolean | undefined
}

export type LoadPhase =
  | "waiting_for_gateway"
  | "validating_symbol"
  | "checking_head_timestamp"
  | "loading_local_data"
  | "analyzing_gaps"
  | "planning_segments"
  | "fetching_segments"
  | "saving"
  | "done"

export interface LoadProgress {
  readonly phase: LoadPhase
  /** Never decreases within one load. */
  readonly percentage: number
  /** KTRDR-style step text, e.g. "Fetching segment 3/12 from IB". */
  readonly step: string
  readonly segmentsTotal: number
  readonly segmentsCompleted: number
  readonly barsFetched: number
  readonly currentSegment?: string
}

export interface LoadResult {
  readonly symbol: string
  readonly seriesKey: string
  readonly timeframe: string
  readonly mode: LoadMode
  /** The range analysed, [from, to) epoch ms; null in local mode. */
  readonly range: { readonly from: number; readonly to: number } | null
  /** When a first tail load of a never-loaded series took the timeframe's default history: its span in words. */
  readonly defaultHistory?: string | null
  readonly barsFetched: number
  /** Bars whose timestamps were not stored before. */
  readonly newBars: number
  readonly segmentsPlanned: number
  readonly segmentsFetched: number
  readonly segmentsEmpty: number
  readonly segmentsFailed: number
  /** Historical requests that reached the gateway, retries included. */
  readonly ibRequests: number
  /** Contract-details and head-timestamp requests that reached the gateway, retries included. */
  readonly lookupRequests: number
  /** Requests sent again after a failure… */
  readonly requestsRetried: number
  /** …by the category of that failure (pacing, connectivity, timeout, …). */
  readonly retryReasons: Readonly<Record<string, number>>
  readonly pacingWaitMs: number
  /** Expected bars still missing in the range after the load. */
  readonly gapsLeft: number
  readonly totalBars: number
  readonly firstBar: number | null
  readonly lastBar: number | null
  readonly checkpoints: number
  readonly durationMs: number
  /** KTRDR's quality checks on the bars this load fetched, segment by segment; null in local mode. */
  readonly quality: QualitySummary | null
}

export type LoadError = InvalidInput | UnknownSymbol | IbError | NotFound | CorruptData | StorageError
