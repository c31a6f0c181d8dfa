/**
 * Symbol resolution: input → validated Instrument, from the symbol cache (KTRDR's
 * `symbol_discovery_cache.json`, or its PostgreSQL row: SymbolCacheStore) while its entry is fresh
 * (30 days), else from IB's contract details, trying the kinds the symbol could be in order
 * (domain/Instrument.ts). Head timestamps are cached for 24 h.
 *
 * The cache is read once, when the layer is built; every change is saved whole and atomically under
 * one lock, so concurrent resolutions never interleave writes. It is an optimisation: a failed save
 * is logged and the resolution still succeeds.
 */
import { Clock, Context, Effect, Either, Layer, Ref } from "effect"
import { InvalidInput } from "../domain/dataErrors.ts"
import type { IbError } from "../domain/errors.ts"
import {
  instrumentFrom,
  normalizeSymbol,
  pickContract,
  suggestSymbols,
  UnknownSymbol,
  type AssetClass,
  type Instrument,
  type ParsedSymbol
} from "../domain/Instrument.ts"
import type { TimeframeId } from "../domain/Timeframe.ts"
import { DataConfig } from "../layers/DataConfig.ts"
import { IbClient } from "../layers/IbClient.ts"
import { SymbolCacheStore } from "../layers/SymbolCacheStore.ts"
import { type CacheState, entryHead, entryInstrument, instrumentEntry, isFresh, withHead } from "./symbolCache.ts"

export interface ResolveOptions {
  /** Look the symbol up only as this kind (`ES` the stock rather than the future). */
  readonly secType?: AssetClass
  /** Ask IB now, whatever the cache holds, and rewrite the entry (no stale fallback). */
  readonly refresh?: boolean
}

export interface SymbolCatalogService {
  /** Validation and normalisation only; no I/O. */
  readonly parse: (input: string, options?: ResolveOptions) => Effect.Effect<ParsedSymbol, InvalidInput>
  readonly resolve: (
    input: string,
    options?: ResolveOptions
  ) => Effect.Effect<Instrument, InvalidInput | UnknownSymbol | IbError>
  /**
   * First instant IB has data for (epoch ms), asked with the asset class's configured whatToShow
   * and useRTH, so it bounds the bars a load will request.
   */
  readonly headTimestamp: (instrument: Instrument, timeframe: TimeframeId) => Effect.Effect<number, IbError>
  /** "Did you mean" candidates among known and cached symbols. */
  readonly suggest: (input: string) => Effect.Effect<ReadonlyArray<string>>
  /** Where the cache lives, for people: the file's path, or `postgres:<db>/symbol_cache`. */
  readonly file: string
  /** The stored cache entries as they are now (another process may have written them); read-only. */
  readonly cachedEntries: Effect.Effect<Readonly<Record<string, unknown>>>
}

export class SymbolCatalog extends Context.Tag("ktrdr/SymbolCatalog")<SymbolCatalog, SymbolCatalogService>() {}

const yearOf = (ms: number) => new Date(ms).getUTCFullYear()

export const make = Effect.gen(function*() {
  const ib = yield* IbClient
  const cfg = yield* DataConfig
  const cache = yield* SymbolCacheStore
  const loaded = yield* cache.load(yield* Clock.currentTimeMillis)
  const state = yield* Ref.make<CacheState>(loaded.state)
  const lock = yield* Effect.makeSemaphore(1)

  /** Applies a change and saves the result; the lock orders saves so the file ends as the state. */
  const update = (f: (s: CacheState, nowMs: number) => CacheState) =>
    lock.withPermits(1)(
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const next = f(yield* Ref.get(state), now)
        yield* Ref.set(state, next)
        if (!loaded.writable) return
        yield* cache.save(next, now).pipe(
          Effect.catchAll((e) => Effect.logWarning(`${e.message}; the in-memory cache is still used`))
        )
      })
    )

  const cachedSymbols = Effect.map(Ref.get(state), (s) =>
    Object.entries(s.entries).flatMap(([k, v]) => {
      const i = entryInstrument(k, v)
      return i ? [i.symbol] : []
    }))

  const suggest = (input: string) => Effect.map(cachedSymbols, (extra) => suggestSymbols(input, extra))

  const parse = (input: string, options: ResolveOptions = {}) =>
    Effect.flatMap(
      Clock.currentTimeMillis,
      (now) =>
        normalizeSymbol(input, { referenceYear: yearOf(now), ...(options.secType ? { secType: options.secType } : {}) })
    )

  /** Tries each candidate; "no security definition" (200) moves on to the next kind. */
  const lookup = (p: ParsedSymbol, now: number): Effect.Effect<Instrument, UnknownSymbol | IbError> =>
    Effect.gen(function*() {
      let last: IbError | undefined
      for (const c of p.candidates) {
        const answer = yield* Effect.either(ib.contractDetails(c.spec))
        if (Either.isLeft(answer)) {
          if (answer.left.category !== "no-security-definition") return yield* Effect.fail(answer.left)
          last = answer.left
          continue
        }
        const picked = pickContract(c.secType, answer.right, now)
        if (picked) return instrumentFrom(p, c, picked, now)
      }
      const suggestions = yield* suggest(p.symbol)
      const tried = p.candidates.map((c) => c.secType)
      const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.join(", ")}?` : ""
      return yield* Effect.fail(
        new UnknownSymbol({
          symbol: p.symbol,
          code: last?.code ?? 200,
          reqId: last?.reqId ?? -1,
          tried,
          suggestions,
          message: `Symbol ${p.symbol} not found (IB ${last?.code ?? 200}: ${
            last?.message ?? "no security definition"
          }; tried ${tried.join(", ")}).${hint}`
        })
      )
    })

  const resolve = (input: string, options: ResolveOptions = {}) =>
    Effect.gen(function*() {
      const p = yield* parse(input, options)
      const now = yield* Clock.currentTimeMillis
      const cached = entryInstrument(p.seriesKey, (yield* Ref.get(state)).entries[p.seriesKey])
      // An entry of a kind this input cannot mean (`^X` after X the stock) is not an answer.
      const usable = cached && p.candidates.some((c) => c.secType === cached.secType) ? cached : undefined
      if (usable && isFresh(usable, now) && !options.refresh) return usable
      const found = yield* lookup(p, now).pipe(
        // A gateway that is down must not stop a known symbol: serve the stale entry, say so.
        Effect.catchIf(
          (e): e is IbError => e._tag === "IbError" && e.retryable && usable !== undefined && !options.refresh,
          (e) =>
            Effect.as(
              Effect.logWarning(`using the expired cache entry for ${p.seriesKey}: IB lookup failed (${e.message})`),
              usable!
            )
        )
      )
      if (found === usable) return found
      yield* update((s) => ({
        ...s,
        entries: { ...s.entries, [p.seriesKey]: instrumentEntry(found, s.entries[p.seriesKey]) },
        validated: s.validated.includes(p.seriesKey) ? s.validated : [...s.validated, p.seriesKey]
      }))
      return found
    }).pipe(Effect.withSpan("SymbolCatalog.resolve", { attributes: { input } }))

  const headTimestamp = (instrument: Instrument, timeframe: TimeframeId) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const hit = entryHead((yield* Ref.get(state)).entries[instrument.seriesKey], timeframe, now)
      if (hit !== undefined) return hit
      const ms = yield* ib.headTimestamp(instrument.contract, {
        whatToShow: cfg.whatToShow[instrument.secType],
        useRTH: cfg.useRTH
      })
      yield* update((s, t) => {
        const entry = s.entries[instrument.seriesKey] ?? instrumentEntry(instrument, undefined)
        return { ...s, entries: { ...s.entries, [instrument.seriesKey]: withHead(entry, timeframe, ms, t) } }
      })
      return ms
    })

  return SymbolCatalog.of({
    parse,
    resolve,
    headTimestamp,
    suggest,
    file: cache.location,
    cachedEntries: cache.entries
  })
})

/** Needs IbClient, DataConfig and a SymbolCacheStore (the composition root picks file or PostgreSQL). */
export const symbolCatalogLayer = Layer.effect(SymbolCatalog, make)

/** Over `<dataDir>/symbol_discovery_cache.json`; needs IbClient and DataConfig. */
export const SymbolCatalogLive = symbolCatalogLayer.pipe(Layer.provide(SymbolCacheStore.file))
