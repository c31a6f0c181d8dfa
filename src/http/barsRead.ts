/**
 * GET /data/{symbol}/{timeframe}: stored bars only (never IB), answered from the hot-series cache when
 * the file has not changed since the bytes were built.
 *
 * Per request: validate the symbol (nothing path-like reaches the file system), parse the dates, stat
 * the series file — the stat happens *before* any read, so bytes are never filed under a newer
 * version than the one they were built from — then serve cached bytes, or build them once however
 * many requests ask at the same moment (the build runs in the server's scope, not the first caller's,
 * so a client hanging up does not fail the others).
 */
import { HttpServerResponse } from "@effect/platform"
import { Deferred, Effect, Either, FiberId } from "effect"
import { statSync } from "node:fs"
import { join, resolve } from "node:path"
import type { Bar } from "../domain/Bar.ts"
import type { ParsedBarCsv } from "../domain/barCsv.ts"
import { sortUniqueBars } from "../domain/barMerge.ts"
import type { CalendarId } from "../domain/calendar/index.ts"
import { InvalidInput, type CorruptData, type NotFound, type StorageError } from "../domain/dataErrors.ts"
import { parseDateParam } from "../domain/dateParams.ts"
import { timeframeOf, type TimeframeId } from "../domain/Timeframe.ts"
import { hoursOf, sessionFilter } from "../domain/tradingHoursFilter.ts"
import { ApiConfig } from "../layers/ApiConfig.ts"
import { BarStore, seriesKey } from "../layers/BarStore.ts"
import { fingerprint, storageError } from "../layers/barFiles.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { SymbolCatalog } from "../services/SymbolCatalog.ts"
import { ByteLru } from "./barCache.ts"
import { encodeOhlcv, type OhlcvMeta } from "./barsResponse.ts"
import { type BadRequest, type InternalError, NotFoundError } from "../contract/envelope.ts"
import { toApiError } from "./errorMapping.ts"
import { makeCacheReader, metaOf } from "./symbolInfo.ts"

/** The API errors a store read can become: the read endpoints' contract declares no gateway errors. */
export type ReadApiError = BadRequest | NotFoundError | InternalError

/** apiErrors for reads: toApiError maps these four domain errors to 400, 404 and 500 only. */
export const readErrors = <A, R>(
  self: Effect.Effect<A, InvalidInput | NotFound | CorruptData | StorageError, R>
): Effect.Effect<A, ReadApiError, R> => Effect.mapError(self, (e) => toApiError(e) as ReadApiError)

export interface BarsQuery {
  readonly symbol: string
  readonly timeframe: TimeframeId
  readonly start_date?: string | undefined
  readonly end_date?: string | undefined
  readonly trading_hours_only?: boolean | undefined
  readonly include_extended?: boolean | undefined
  readonly limit?: number | undefined
  readonly tail?: number | undefined
}

/** Inclusive [start, end] as KTRDR read it; equal bounds are one instant (e.g. one daily bar). */
const dateRange = (q: BarsQuery) =>
  Either.gen(function*() {
    const start = q.start_date === undefined || q.start_date === ""
      ? undefined
      : yield* parseDateParam("start_date", q.start_date)
    const end = q.end_date === undefined || q.end_date === ""
      ? undefined
      : yield* parseDateParam("end_date", q.end_date)
    if (start !== undefined && end !== undefined && start > end) {
      return yield* Either.left(
        new InvalidInput({
          field: "start_date",
          value: q.start_date ?? "",
          message: "start_date must not be after end_date"
        })
      )
    }
    return { start, end }
  })

/** Ascending and unique whatever the file held (KTRDR's own files are not always). */
export const orderedBars = (parsed: ParsedBarCsv): ReadonlyArray<Bar> =>
  parsed.outOfOrder === 0 && parsed.duplicates === 0 ? parsed.bars : sortUniqueBars(parsed.bars)

const json = (bytes: Uint8Array) => HttpServerResponse.uint8Array(bytes, { contentType: "application/json" })

/** Needs BarStore, SymbolCatalog, DataConfig, ApiConfig and a Scope (the server's) for shared builds. */
export const makeBarsReader = Effect.gen(function*() {
  const store = yield* BarStore
  const catalog = yield* SymbolCatalog
  const dir = resolve((yield* DataConfig).dataDir)
  const cache = new ByteLru((yield* ApiConfig).barCacheBytes)
  const scope = yield* Effect.scope
  const readSymbolCache = makeCacheReader(catalog.file)
  const building = new Map<string, Deferred.Deferred<Uint8Array, ReadApiError>>()

  /**
   * The file's version, or undefined when the series is not stored. A synchronous stat on purpose: it is
   * one ~7 µs syscall on a local disk, while the promise form costs a thread-pool round trip that
   * profiling showed at ~15% of a cached answer's CPU time (it ran on every request). A data directory
   * on a slow network filesystem would make this the first thing to revisit.
   */
  const versionOf = (file: string): Effect.Effect<string | undefined, StorageError> =>
    Effect.suspend(() => {
      try {
        return Effect.succeed(fingerprint(statSync(file)))
      } catch (e) {
        const code = (e as { code?: string }).code
        return code === "ENOENT" || code === "ENOTDIR" ? Effect.succeed(undefined) : Effect.fail(storageError(file)(e))
      }
    })

  const build = (
    key: string,
    tf: TimeframeId,
    range: { start?: number | undefined; end?: number | undefined },
    meta: OhlcvMeta,
    calendarId: CalendarId | undefined,
    limit: number | undefined
  ) =>
    Effect.gen(function*() {
      const read = yield* store.read(key, tf, {
        ...(range.start === undefined ? {} : { start: range.start }),
        ...(range.end === undefined ? {} : { end: range.end })
      }).pipe(
        // deleted between the stat and the read: as if never stored
        Effect.catchTag("NotFound", () => Effect.succeed(undefined))
      )
      const hours = hoursOf({ tradingHoursOnly: meta.trading_hours_only, includeExtended: meta.include_extended })
      const keep = hours !== undefined && calendarId !== undefined
        ? sessionFilter(calendarId, timeframeOf(tf), hours)
        : undefined
      return yield* encodeOhlcv(read === undefined ? [] : orderedBars(read), meta, keep, limit)
    }).pipe(readErrors)

  /** One build per key and file version at a time; every concurrent asker awaits the same bytes. */
  const shared = (cacheKey: string, version: string, make: Effect.Effect<Uint8Array, ReadApiError>) =>
    Effect.suspend(() => {
      const flight = `${cacheKey}|${version}`
      const pending = building.get(flight)
      if (pending !== undefined) return Deferred.await(pending)
      const done = Deferred.unsafeMake<Uint8Array, ReadApiError>(FiberId.none)
      building.set(flight, done)
      return make.pipe(
        Effect.tap((bytes) => Effect.sync(() => cache.set(cacheKey, version, bytes))),
        Effect.onExit((exit) => Effect.zipRight(Effect.sync(() => building.delete(flight)), Deferred.done(done, exit))),
        Effect.forkIn(scope),
        Effect.zipRight(Deferred.await(done))
      )
    })

  const bars = (q: BarsQuery): Effect.Effect<HttpServerResponse.HttpServerResponse, ReadApiError> =>
    Effect.gen(function*() {
      const parsed = yield* readErrors(catalog.parse(q.symbol))
      const key = yield* readErrors(seriesKey(parsed.seriesKey))
      const range = yield* readErrors(dateRange(q))
      const limit = q.limit ?? q.tail
      const tradingHoursOnly = q.trading_hours_only ?? false
      const includeExtended = q.include_extended ?? false
      const hours = hoursOf({ tradingHoursOnly, includeExtended })
      const calendarId = hours === undefined
        ? undefined
        : metaOf(key, (yield* readSymbolCache)[key], parsed.candidates.map((c) => c.secType)).calendarId
      const meta: OhlcvMeta = {
        symbol: key,
        timeframe: q.timeframe,
        trading_hours_only: tradingHoursOnly,
        include_extended: includeExtended,
        filter_calendar: calendarId ?? null
      }
      // The store's own naming rule, `<SERIES>_<TF>.csv`, for the version check only; reads go through BarStore.
      const version = yield* readErrors(versionOf(join(dir, `${key}_${q.timeframe}.csv`)))
      // No file: the series is not stored at all (a stored series with no bars in the range is a 200 with empty
      // arrays). KTRDR answered 200 for both; its clients already show a 404 as "no cached data".
      if (version === undefined) {
        return yield* new NotFoundError({
          code: "DATA-NotFound",
          message:
            `No stored data for ${key} (${q.timeframe}): load it first (ktrdr data load ${key} -t ${q.timeframe})`,
          details: { symbol: key, timeframe: q.timeframe }
        })
      }
      const cacheKey = `${key}|${q.timeframe}|${range.start ?? ""}|${range.end ?? ""}|${hours ?? ""}|${
        calendarId ?? ""
      }|${limit ?? ""}`
      const hit = cache.get(cacheKey, version)
      if (hit !== undefined) return json(hit)
      return json(yield* shared(cacheKey, version, build(key, q.timeframe, range, meta, calendarId, limit)))
    })

  return { bars }
})
