/**
 * The small read endpoints of the data group: /symbols, /timeframes, /data/info and /data/range. They
 * read the store and the symbol cache file only; nothing here asks IB or writes a file.
 */
import { Effect, Either } from "effect"
import { NotFound } from "../../domain/dataErrors.ts"
import type { AssetClass } from "../../domain/Instrument.ts"
import type { TimeframeId } from "../../domain/Timeframe.ts"
import { BarStore, type StoredSeries } from "../../layers/BarStore.ts"
import { DataConfig } from "../../layers/DataConfig.ts"
import { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import type { DataInfo, SymbolInfo } from "../../contract/api/data.ts"
import { orderedSeries, readErrors, type ReadApiError } from "../barsRead.ts"
import { isoSecond } from "../barsResponse.ts"
import { symbolInfos } from "../symbolInfo.ts"
import { TIMEFRAME_INFOS } from "../timeframeInfo.ts"

/** What the server offers, stated honestly (KTRDR also listed "real_time_updates", which it never had). */
const DATA_SOURCES = ["local_files", "ib_gateway"]
const FEATURES = ["symbol_discovery", "data_validation", "gap_filling"]

/** Needs BarStore, SymbolCatalog and DataConfig. */
export const makeDataReads = Effect.gen(function*() {
  const store = yield* BarStore
  const catalog = yield* SymbolCatalog
  const dataDir = (yield* DataConfig).dataDir
  const readSymbolCache = catalog.cachedEntries

  /** The kinds each stored key could be, for metadata when the cache has no entry. */
  const kindsOf = (series: ReadonlyArray<StoredSeries>) =>
    Effect.map(
      Effect.forEach(new Set(series.map((s) => s.series)), (key) =>
        Effect.map(Effect.either(catalog.parse(key)), (p) =>
          [
            key,
            Either.isRight(p)
              ? p.right.candidates.map((c) => c.secType)
              : []
          ] as const)),
      (pairs) => new Map<string, ReadonlyArray<AssetClass>>(pairs)
    )

  /** Only series GET /data can serve: keys a symbol parses back to (`BRK_B_1d.csv` would be unreachable). */
  const servable = (all: ReadonlyArray<StoredSeries>) =>
    Effect.filter(
      all,
      (s) =>
        Effect.map(Effect.either(catalog.parse(s.series)), (p) => Either.isRight(p) && p.right.seriesKey === s.series)
    )

  const listing = Effect.gen(function*() {
    const series = yield* servable(yield* store.list())
    const kinds = yield* kindsOf(series)
    return { series, infos: symbolInfos(series, yield* readSymbolCache, (k) => kinds.get(k) ?? []) }
  })

  const symbols: Effect.Effect<ReadonlyArray<SymbolInfo>, ReadApiError> = Effect.map(listing, (l) => l.infos).pipe(
    readErrors
  )

  const timeframes = Effect.succeed(TIMEFRAME_INFOS)

  const info = Effect.gen(function*() {
    const { series, infos } = yield* listing
    const types: Record<string, number> = {}
    for (const i of infos) types[i.type] = (types[i.type] ?? 0) + 1
    const timeframes = [...new Set(series.map((s) => s.timeframe))].sort()
    const out: typeof DataInfo.Type = {
      // as configured: a relative path stays relative, so the answer says no more than the operator wrote
      data_directory: dataDir,
      total_symbols: infos.length,
      available_symbols: infos.map((i) => i.symbol),
      symbol_types: types,
      timeframes_available: timeframes,
      total_timeframes: timeframes.length,
      total_series: series.length,
      data_sources: DATA_SOURCES,
      features: FEATURES
    }
    return out
  }).pipe(readErrors)

  /** First and last stored bar and the exact number of distinct bars (KTRDR estimated it from the dates). */
  const range = (symbol: string, timeframe: TimeframeId) =>
    Effect.gen(function*() {
      const key = (yield* catalog.parse(symbol)).seriesKey
      const bars = orderedSeries(yield* store.read(key, timeframe))
      const first = bars.time[0], last = bars.time[bars.length - 1]
      if (bars.length === 0 || first === undefined || last === undefined) {
        return yield* new NotFound({ what: `${key}_${timeframe}`, message: `${key}_${timeframe} holds no bars` })
      }
      return {
        symbol: key,
        timeframe,
        start_date: isoSecond(first),
        end_date: isoSecond(last),
        point_count: bars.length
      }
    }).pipe(readErrors)

  return { symbols, timeframes, info, range }
})
