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
import { Cause, Deferred, Effect, Either, FiberId, Stream } from "effect"
import type { ParsedBarCsv } from "../domain/barCsv.ts"
import { sortUniqueSeries } from "../domain/barMerge.ts"
import { type BarSeries, emptySeries } from "../domain/barSeries.ts"
import { ROWS_PER_PIECE } from "../domain/ohlcvJson.ts"
import type { CalendarId, Hours } from "../domain/calendar/index.ts"
import type { AssetClass } from "../domain/Instrument.ts"
import { InvalidInput, type CorruptData, type NotFound, type StorageError } from "../domain/dataErrors.ts"
import { parseDateParam } from "../domain/dateParams.ts"
import { timeframeOf, type TimeframeId } from "../domain/Timeframe.ts"
import { hoursOf, sessionFilter } from "../domain/tradingHoursFilter.ts"
import { ApiConfig } from "../layers/ApiConfig.ts"
import { BarStore, seriesKey } from "../layers/BarStore.ts"
import { SymbolCatalog } from "../services/SymbolCatalog.ts"
import { ByteLru } from "./barCache.ts"
import { ohlcvStream, type OhlcvMeta, type OhlcvPlan, planOhlcv } from "./barsResponse.ts"
import { type BadRequest, type InternalError, NotFoundError } from "../contract/envelope.ts"
import { toApiError } from "./errorMapping.ts"
import { metaOf } from "./symbolInfo.ts"

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

const NO_RANGE: { readonly start?: number | undefined; readonly end?: number | undefined } = {}

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
export const orderedSeries = (parsed: ParsedBarCsv): BarSeries =>
  parsed.outOfOrder === 0 && parsed.duplicates === 0 ? parsed : sortUniqueSeries(parsed)

const JSON_TYPE = "application/json"
const json = (bytes: Uint8Array) => HttpServerResponse.uint8Array(bytes, { contentType: JSON_TYPE })

/** Needs BarStore, SymbolCatalog, ApiConfig and a Scope (the server's) for shared reads. */
export const makeBarsReader = Effect.gen(function*() {
  const store = yield* BarStore
  const catalog = yield* SymbolCatalog
  const cache = new ByteLru((yield* ApiConfig).barCacheBytes)
  const scope = yield* Effect.scope
  const readSymbolCache = catalog.cachedEntries
  const planning = new Map<string, Deferred.Deferred<OhlcvPlan, ReadApiError>>()

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
      return yield* planOhlcv(read === undefined ? emptySeries() : orderedSeries(read), meta, keep, limit)
    }).pipe(readErrors)

  /**
   * One read per key and series version at a time; every concurrent asker gets the same plan. The read runs in the
   * server's scope, not the first caller's, so a client hanging up does not fail the others.
   */
  const shared = (cacheKey: string, version: string, make: Effect.Effect<OhlcvPlan, ReadApiError>) =>
    Effect.suspend(() => {
      const flight = `${cacheKey}|${version}`
      const pending = planning.get(flight)
      if (pending !== undefined) return Deferred.await(pending)
      const done = Deferred.unsafeMake<OhlcvPlan, ReadApiError>(FiberId.none)
      planning.set(flight, done)
      return make.pipe(
        Effect.onExit((exit) => Effect.zipRight(Effect.sync(() => planning.delete(flight)), Deferred.done(done, exit))),
        Effect.forkIn(scope),
        Effect.zipRight(Deferred.await(done))
      )
    })

  /**
   * The answer's bytes streamed as they are written (first byte after the read, not after the whole encode); the
   * pieces are kept and filed in the cache once the stream completes, unless they outgrow the cache's budget.
   */
  const respond = (cacheKey: string, version: string, plan: OhlcvPlan) => {
    const pieces: Array<Uint8Array> = []
    let size = 0
    const stream = ohlcvStream(plan).pipe(
      Stream.tap((piece) =>
        Effect.sync(() => {
          size += piece.length
          if (size <= cache.budget) pieces.push(piece)
        })
      ),
      Stream.onEnd(Effect.sync(() => {
        if (size <= cache.budget) cache.set(cacheKey, version, Buffer.concat(pieces, size))
      }))
    )
    if (plan.selection.to - plan.selection.from > ROWS_PER_PIECE) {
      return Effect.succeed(HttpServerResponse.stream(stream, { contentType: JSON_TYPE }))
    }
    // one piece of rows: no point streaming, and a Content-Length helps small clients
    return Effect.map(Stream.runCollect(stream), (chunks) => json(Buffer.concat(Array.from(chunks))))
  }

  /**
   * The series key and candidate kinds of a requested symbol, remembered per symbol text and year (a future's code
   * reads against the current year): every cached GET used to parse and validate the symbol again.
   */
  let yearStart = 0, yearEnd = -1, currentYear = 0
  /** The UTC year of an instant; the current year's bounds are kept, as every request asks. */
  const yearOf = (ms: number) => {
    if (ms < yearStart || ms >= yearEnd) {
      currentYear = new Date(ms).getUTCFullYear()
      yearStart = Date.UTC(currentYear, 0, 1)
      yearEnd = Date.UTC(currentYear + 1, 0, 1)
    }
    return currentYear
  }
  const symbols = new Map<string, { readonly key: string; readonly secTypes: ReadonlyArray<AssetClass> }>()
  const symbolOf = (symbol: string, year: number) =>
    Effect.suspend(() => {
      const memo = `${year}|${symbol}`
      const known = symbols.get(memo)
      if (known !== undefined) return Effect.succeed(known)
      return readErrors(Effect.gen(function*() {
        const parsed = yield* catalog.parse(symbol)
        const found = { key: yield* seriesKey(parsed.seriesKey), secTypes: parsed.candidates.map((c) => c.secType) }
        if (symbols.size >= 4096) symbols.clear()
        symbols.set(memo, found)
        return found
      }))
    })

  /** What a query asks for once its symbol, dates and filter are read: all a request needs but the file's version. */
  interface Prepared {
    readonly year: number
    readonly key: string
    readonly timeframe: TimeframeId
    readonly range: { readonly start?: number | undefined; readonly end?: number | undefined }
    readonly limit: number | undefined
    readonly meta: OhlcvMeta
    readonly hours: Hours | undefined
    readonly calendarId: CalendarId | undefined
    readonly cacheKey: string
    readonly answer: Effect.Effect<HttpServerResponse.HttpServerResponse, ReadApiError>
  }

  const prepare = (q: BarsQuery, year: number): Effect.Effect<Prepared, ReadApiError> =>
    Effect.gen(function*() {
      const { key, secTypes } = yield* symbolOf(q.symbol, year)
      const range = q.start_date || q.end_date ? yield* readErrors(dateRange(q)) : NO_RANGE
      const limit = q.limit ?? q.tail
      const tradingHoursOnly = q.trading_hours_only ?? false
      const includeExtended = q.include_extended ?? false
      const hours = hoursOf({ tradingHoursOnly, includeExtended })
      const calendarId = hours === undefined
        ? undefined
        : metaOf(key, (yield* readSymbolCache)[key], secTypes).calendarId
      const meta: OhlcvMeta = {
        symbol: key,
        timeframe: q.timeframe,
        trading_hours_only: tradingHoursOnly,
        include_extended: includeExtended,
        filter_calendar: calendarId ?? null
      }
      const cacheKey = `${key}|${q.timeframe}|${range.start ?? ""}|${range.end ?? ""}|${hours ?? ""}|${
        calendarId ?? ""
      }|${limit ?? ""}`
      const p = { year, key, timeframe: q.timeframe, range, limit, meta, hours, calendarId, cacheKey }
      return { ...p, answer: answerOf(p) }
    })

  /**
   * Prepared queries by query object. The hot lane hands the same object for the same URL (hotLane.ts), so a chart's
   * repeated GET skips the symbol, date and key work; a weak map, so entries go with the lane's. A query with the
   * trading-hours filter is prepared every time: its calendar comes from the symbol cache, which a load can change.
   */
  const prepared = new WeakMap<BarsQuery, Prepared>()

  const notStored = (p: Pick<Prepared, "key" | "timeframe">) =>
    new NotFoundError({
      code: "DATA-NotFound",
      message:
        `No stored data for ${p.key} (${p.timeframe}): load it first (ktrdr data load ${p.key} -t ${p.timeframe})`,
      details: { symbol: p.key, timeframe: p.timeframe }
    })

  /** A cached answer's response, made once per cached bytes. */
  const responses = new WeakMap<Uint8Array, HttpServerResponse.HttpServerResponse>()
  const cachedResponse = (bytes: Uint8Array) => {
    let r = responses.get(bytes)
    if (r === undefined) responses.set(bytes, r = json(bytes))
    return r
  }

  /**
   * The answer to a prepared query, as one Effect value made once per query: the file's version first (bytes are never
   * filed under a newer version than they came from), then the cached bytes or a build.
   */
  const answerOf = (p: Omit<Prepared, "answer">): Effect.Effect<HttpServerResponse.HttpServerResponse, ReadApiError> =>
    Effect.flatMap(
      // mapError's semantics in the runtime's cheaper steps (matchEffect's frame costs ~1 µs more per request)
      Effect.catchAllCause(
        store.version(p.key, p.timeframe),
        (cause) => Effect.failCause(Cause.map(cause, (e) => toApiError(e) as ReadApiError))
      ),
      (version) => {
        // No file: the series is not stored at all (a stored series with no bars in the range is a 200 with empty
        // arrays). KTRDR answered 200 for both; its clients already show a 404 as "no cached data".
        if (version === undefined) return Effect.fail(notStored(p))
        const hit = cache.get(p.cacheKey, version)
        if (hit !== undefined) return Effect.succeed(cachedResponse(hit))
        return Effect.flatMap(
          shared(p.cacheKey, version, build(p.key, p.timeframe, p.range, p.meta, p.calendarId, p.limit)),
          (plan) => respond(p.cacheKey, version, plan)
        )
      }
    )

  const bars = (q: BarsQuery): Effect.Effect<HttpServerResponse.HttpServerResponse, ReadApiError> =>
    Effect.clockWith((clock) => {
      const year = yearOf(clock.unsafeCurrentTimeMillis())
      const known = prepared.get(q)
      if (known !== undefined && known.year === year) return known.answer
      return Effect.flatMap(prepare(q, year), (p) => {
        if (p.hours === undefined) prepared.set(q, p)
        return p.answer
      })
    })

  return { bars }
})
