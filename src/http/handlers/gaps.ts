/**
 * /gap-analysis handlers: stored bars (BarStore) against the instrument's calendar, shaped by
 * domain/gapReport. The calendar comes from the symbol cache entry, else from the symbol's own form
 * (`EURUSD` → forex, `ESZ2026` → futures, `^SPX` → index, else stock), never from IB: a report on
 * stored data must not need the gateway. Nothing here writes: a bad symbol, date or range is refused
 * before any file is opened, and the cache is read, never repaired or rewritten.
 */
import { sortUniqueSeries } from "../../domain/barMerge.ts"
import { HttpApiBuilder } from "@effect/platform"
import { Clock, Effect, Either } from "effect"
import { DAY_MS, hoursFor } from "../../domain/BarSchedule.ts"
import { CALENDAR_IDS, calendarFor, type CalendarId } from "../../domain/calendar/index.ts"
import { InvalidInput, type CorruptData, type NotFound, type StorageError } from "../../domain/dataErrors.ts"
import { parseDateParam } from "../../domain/dateParams.ts"
import { analyzeGaps } from "../../domain/GapAnalysis.ts"
import { batchReport, buildReport, isoSeconds, type GapAnalysisReport, type GapMode } from "../../domain/gapReport.ts"
import { batchOut, reportOut, resolveMode, type AnyGapMode } from "../gapsKtrdr.ts"
import { calendarIdFor, type AssetClass, type ParsedSymbol } from "../../domain/Instrument.ts"
import { parseTimeframe, TIMEFRAMES, type Timeframe } from "../../domain/Timeframe.ts"
import { BarStore } from "../../layers/BarStore.ts"
import { DataConfig } from "../../layers/DataConfig.ts"
import { entryInstrument, parseIso } from "../../services/symbolCache.ts"
import { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { InternalError, ok, type BadRequest } from "../../contract/envelope.ts"
import { toApiError } from "../errorMapping.ts"

/** KTRDR's CLI default period: the 90 days before the end. */
const DEFAULT_SPAN_MS = 90 * DAY_MS
/**
 * Nominal bars (period ÷ timeframe) one analysis may cover: 1s bars over ~58 days, 1m over ~9.5 years.
 * The analysis is synchronous (~100 ms per million scheduled bars): this keeps one request from holding
 * the event loop for long.
 */
const MAX_NOMINAL_BARS = 5_000_000

export interface Period {
  readonly from: number
  readonly to: number
}

/** Dates as the data API takes them; defaults end = now, start = end − 90 days; start < end. */
export const periodOf = (
  start: string | null | undefined,
  end: string | null | undefined,
  now: number,
  tf: Timeframe
): Either.Either<Period, InvalidInput> =>
  Either.gen(function*() {
    const given = (s: string | null | undefined) => (s == null || s.trim() === "" ? undefined : s)
    const s = given(start), e = given(end)
    const to = e === undefined ? now : yield* parseDateParam("end_date", e)
    const from = s === undefined ? to - DEFAULT_SPAN_MS : yield* parseDateParam("start_date", s)
    if (from >= to) {
      const endText = e === undefined ? `now (${isoSeconds(now)})` : "end_date"
      return yield* Either.left(
        new InvalidInput({ field: "start_date", value: s ?? "", message: `start_date must be before ${endText}` })
      )
    }
    if ((to - from) / tf.ms > MAX_NOMINAL_BARS) {
      return yield* Either.left(
        new InvalidInput({
          field: "range",
          value: `${isoSeconds(from)}..${isoSeconds(to)}`,
          message: `The period spans over ${
            MAX_NOMINAL_BARS.toLocaleString("en-US")
          } nominal ${tf.id} bars; analyse a shorter start_date..end_date`
        })
      )
    }
    return { from, to }
  })

type CacheEntries = Readonly<Record<string, unknown>>

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x)

/** A cached head timestamp of any age: IB's first bar does not move, only a fetch decision needs it fresh. */
const cachedHead = (raw: unknown, timeframe: string): number | undefined => {
  if (!isObj(raw)) return undefined
  const tfs = isObj(raw.head_timestamp_timeframes) ? raw.head_timestamp_timeframes : {}
  const iso = [tfs[timeframe], tfs.default, raw.head_timestamp].find((x): x is string => typeof x === "string")
  return iso === undefined ? undefined : parseIso(iso)
}

interface SeriesContext {
  readonly secType: AssetClass
  readonly calendarId: CalendarId
  readonly source: "symbol_cache" | "symbol_rules"
  readonly headMs: number | undefined
}

/** The cached kind when the input can mean it (as SymbolCatalog.resolve decides), else the first candidate's. */
const seriesContext = (p: ParsedSymbol, entries: CacheEntries, timeframe: string): SeriesContext => {
  const raw = entries[p.seriesKey]
  const cached = entryInstrument(p.seriesKey, raw)
  if (cached && p.candidates.some((c) => c.secType === cached.secType)) {
    return {
      secType: cached.secType,
      calendarId: cached.calendarId,
      source: "symbol_cache",
      headMs: cachedHead(raw, timeframe)
    }
  }
  const secType = p.candidates[0]!.secType
  return { secType, calendarId: calendarIdFor(secType), source: "symbol_rules", headMs: undefined }
}

export interface AnalyzeRequest {
  readonly symbol: string
  readonly timeframe: Timeframe
  readonly period: Period
  readonly now: number
  readonly mode: GapMode
  readonly includeExpected: boolean
}

const makeAnalyzer = Effect.gen(function*() {
  const store = yield* BarStore
  const catalog = yield* SymbolCatalog
  const cfg = yield* DataConfig
  const hours = hoursFor(cfg.useRTH)

  /** Stored bar times around the period, ascending and unique; undefined when the series has no bars at all. */
  const storedTimes = (key: string, tf: Timeframe, { from, to }: Period) =>
    Effect.gen(function*() {
      // Daily-or-longer bars are stored at 00:00Z of their first trading day, which may precede `from`.
      const pad = tf.intraday ? DAY_MS : 40 * DAY_MS
      const parsed = yield* store.read(key, tf.id, { start: from - pad, end: to + pad })
      // Nothing near the period: a file with bars elsewhere is analysed (all missing), an empty one is "no data".
      if (parsed.length === 0) yield* store.range(key, tf.id)
      return parsed.duplicates > 0 || parsed.outOfOrder > 0 ? sortUniqueSeries(parsed).time : parsed.time
    }).pipe(Effect.catchTag("NotFound", (_: NotFound) => Effect.succeed(undefined)))

  const analyze = (req: AnalyzeRequest, entries: CacheEntries) =>
    Effect.gen(function*() {
      const p = yield* catalog.parse(req.symbol)
      const ctx = seriesContext(p, entries, req.timeframe.id)
      const stored = yield* storedTimes(p.seriesKey, req.timeframe, req.period)
      const { from, to } = req.period
      const analysis = analyzeGaps({
        stored: stored ?? [],
        calendarId: ctx.calendarId,
        timeframe: req.timeframe,
        hours,
        from,
        to,
        now: req.now,
        headMs: ctx.headMs,
        includeExpected: true
      })
      const cal = calendarFor(ctx.calendarId)
      return buildReport({
        symbol: p.symbol,
        timeframe: req.timeframe,
        from,
        to,
        tradingDays: cal.sessionsBetween(from, to, hours).length,
        metadata: {
          calendar_id: ctx.calendarId,
          timezone: cal.timeZone,
          asset_type: ctx.secType,
          hours,
          source: ctx.source,
          head_timestamp: ctx.headMs === undefined ? null : isoSeconds(ctx.headMs)
        },
        timeZone: cal.timeZone,
        analysis,
        noData: stored === undefined,
        mode: req.mode,
        includeExpected: req.includeExpected
      })
    })

  const cacheEntries = catalog.cachedEntries
  return { analyze, cacheEntries, dataDir: cfg.dataDir } as const
})

/** Analysis fails only on bad input (400) or a store it cannot read (500). */
const gapError = (e: InvalidInput | CorruptData | StorageError): BadRequest | InternalError => {
  const mapped = toApiError(e)
  return mapped._tag === "BadRequest" || mapped._tag === "InternalError"
    ? mapped
    : new InternalError({ code: mapped.code, message: mapped.message, details: mapped.details })
}

/** Timeframe, dates and the clock: what every endpoint validates before reading anything. */
const requestBasics = (timeframe: string, start: string | null | undefined, end: string | null | undefined) =>
  Effect.gen(function*() {
    const tf = yield* parseTimeframe(timeframe)
    const now = yield* Clock.currentTimeMillis
    const period = yield* periodOf(start, end, now, tf)
    return { tf, now, period }
  })

/** Every gap, whatever the mode: KTRDR's counts cover them all, the mode only chooses what is listed. */
const ALL = { mode: "verbose" as const, includeExpected: true }

export const GapsLiveHandlers = HttpApiBuilder.group(KtrdrApi, "gaps", (handlers) =>
  Effect.gen(function*() {
    const { analyze, cacheEntries, dataDir } = yield* makeAnalyzer
    const single = (
      symbol: string,
      timeframe: string,
      start: string | undefined,
      end: string | undefined,
      mode: AnyGapMode,
      includeExpected: boolean
    ) =>
      Effect.gen(function*() {
        const { tf, now, period } = yield* requestBasics(timeframe, start, end)
        const all = yield* analyze({ symbol, timeframe: tf, period, now, ...ALL }, yield* cacheEntries)
        return reportOut(all, resolveMode(mode, includeExpected), now)
      }).pipe(Effect.mapError(gapError))

    return handlers
      .handle("gaps", ({ path, urlParams }) =>
        Effect.map(
          single(
            path.symbol,
            path.timeframe,
            urlParams.start_date,
            urlParams.end_date,
            urlParams.mode ?? "normal",
            urlParams.include_expected ?? false
          ),
          ok
        ))
      .handle("summary", ({ path, urlParams }) =>
        Effect.map(
          single(path.symbol, path.timeframe, urlParams.start_date, urlParams.end_date, "normal", false),
          (r) =>
            ok({
              symbol: r.symbol,
              timeframe: r.timeframe,
              analysis_mode: "normal" as const,
              analysis_period: r.analysis_period,
              summary: r.summary,
              gaps: [],
              recommendations: r.recommendations
            })
        ))
      .handle("batch", ({ payload }) =>
        Effect.gen(function*() {
          const { tf, now, period } = yield* requestBasics(payload.timeframe, payload.start_date, payload.end_date)
          const entries = yield* cacheEntries
          const m = resolveMode(payload.mode ?? "normal", payload.include_expected ?? false)
          const outcomes = yield* Effect.forEach(
            payload.symbols,
            (symbol) => Effect.either(analyze({ symbol, timeframe: tf, period, now, ...ALL }, entries)),
            { concurrency: 4 }
          )
          const results: Array<GapAnalysisReport> = []
          const errors: Array<{ symbol: string; error: string }> = []
          outcomes.forEach((o, i) => (Either.isRight(o)
            ? results.push(o.right)
            : errors.push({ symbol: payload.symbols[i]!.trim(), error: o.left.message }))
          )
          const report = batchReport(
            {
              symbolsRequested: payload.symbols.length,
              timeframe: tf.id,
              from: period.from,
              to: period.to,
              mode: m.mode,
              includeExpected: m.includeExpected
            },
            results,
            errors
          )
          return ok(
            batchOut(report, results.map((r) => reportOut(r, m, now)), m.analysisMode, period.from, period.to, now)
          )
        }).pipe(Effect.mapError(gapError)))
      .handle("health", () =>
        Effect.map(cacheEntries, (entries) =>
          ok({
            status: "healthy" as const,
            service: "gap_analysis" as const,
            data_directory: dataDir,
            gap_classifier_symbols: Object.entries(entries).filter(([k, v]) =>
              entryInstrument(k, v) !== undefined
            ).length,
            supported_timeframes: TIMEFRAMES.map((t) => t.id),
            calendars: [...CALENDAR_IDS],
            version: "1.0.0"
          })))
  }))
