/**
 * The rest of KTRDR's /ib router, answered from this process's real state: readiness from GatewayInfo, ranges from
 * the store, discovered symbols from the symbol cache file, the config this process was started with.
 */
import { HttpApiBuilder } from "@effect/platform"
import { Clock, Effect, Either, Option } from "effect"
import { parseTimeframe, type TimeframeId } from "../../domain/Timeframe.ts"
import { BarStore } from "../../layers/BarStore.ts"
import { IbConfig } from "../../layers/Config.ts"
import { GatewayInfo } from "../../layers/GatewayInfo.ts"
import { RemoteIbHost } from "../../layers/RemoteIb.ts"
import { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { BadRequest, Conflict, ok } from "../../contract/envelope.ts"
import { isoSecond } from "../barsResponse.ts"
import { readErrors } from "../barsRead.ts"
import { ibConfigView } from "../ibConfigView.ts"

const DAY_MS = 86_400_000

/** KTRDR's names of IB security types. */
const INSTRUMENT_TYPES: Readonly<Record<string, string>> = { STK: "stock", CASH: "forex", FUT: "future", IND: "index" }

/** Python's `datetime.isoformat()` of a UTC instant: microseconds, `+00:00`. */
const isoPython = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000+00:00")

const list = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")

type Json = Record<string, unknown>
const obj = (x: unknown): Json => (typeof x === "object" && x !== null && !Array.isArray(x) ? x as Json : {})
const str = (x: unknown, fallback: string) => (typeof x === "string" && x !== "" ? x : fallback)
const num = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : null)

export const IbExtraLiveHandlers = HttpApiBuilder.group(KtrdrApi, "ibExtra", (handlers) =>
  Effect.gen(function*() {
    const gw = yield* GatewayInfo
    const cfg = yield* IbConfig
    const store = yield* BarStore
    const catalog = yield* SymbolCatalog
    const remote = yield* Effect.serviceOption(RemoteIbHost)
    const readCache = catalog.cachedEntries
    const architecture = gw.mode === "direct" ? "direct" as const : "host_service" as const
    const config = ibConfigView(cfg, Option.getOrUndefined(remote)?.url)
    const configOut = {
      host: config.host,
      port: config.port,
      client_id_range: config.client_id_range,
      timeout: config.timeout,
      readonly: config.readonly,
      rate_limit: config.rate_limit
    }

    const rangeOf = (key: string, tf: TimeframeId) =>
      store.range(key, tf).pipe(
        Effect.map((r) => ({
          earliest_date: isoSecond(r.first),
          latest_date: isoSecond(r.last),
          total_days: Math.floor((r.last - r.first) / DAY_MS),
          cached: true
        })),
        Effect.catchTag("NotFound", () => Effect.succeed(null)),
        readErrors
      )

    return handlers
      .handle("resilience", () =>
        Effect.gen(function*() {
          const r = yield* gw.readiness
          return ok({
            architecture,
            host_service_health: {
              healthy: r.ready,
              connected: r.ready,
              provider_info: { mode: gw.mode, state: r.state, simulated: gw.simulated }
            },
            features: {
              http_communication: gw.mode === "direct" ? "not_used" : "enabled",
              rate_limiting: gw.mode === "direct" ? "pace_gate" : "handled_by_host_service",
              connection_management: gw.mode === "direct" ? "scoped_session_with_reconnect" : "handled_by_host_service"
            },
            timestamp: isoPython(yield* Clock.currentTimeMillis)
          })
        }))
      .handle("circuitBreakers", () =>
        Effect.succeed(
          ok({ circuit_breakers: {}, summary: { total_breakers: 0, open_breakers: 0, half_open_breakers: 0 } })
        ))
      .handle("cleanup", () =>
        Effect.succeed(ok({
          success: true as const,
          message: gw.mode === "direct"
            ? "Nothing to clean up: the gateway session is scoped to this server"
            : "Connection management delegated to the IB host service",
          note: "The session is closed (socket, timers, requests) when the server stops, on any exit",
          architecture
        })))
      .handle("ranges", ({ urlParams }) =>
        Effect.gen(function*() {
          const symbols = list(urlParams.symbols)
          const tfNames = list(urlParams.timeframes ?? "1d")
          if (symbols.length === 0) {
            return yield* new BadRequest({
              code: "IB-RANGES-INVALID-SYMBOLS",
              message: "No symbols given",
              details: null
            })
          }
          const bad = tfNames.filter((t) => Either.isLeft(parseTimeframe(t)))
          if (bad.length > 0 || tfNames.length === 0) {
            return yield* new BadRequest({
              code: "IB-RANGES-INVALID-TIMEFRAMES",
              message: `Invalid timeframes: ${bad.join(", ")}`,
              details: { invalid_timeframes: bad }
            })
          }
          const tfs = tfNames as ReadonlyArray<TimeframeId>
          let stored = 0, missing = 0
          const out = yield* Effect.forEach(symbols, (sym) =>
            Effect.gen(function*() {
              const key = (yield* readErrors(catalog.parse(sym))).seriesKey
              const ranges: Record<string, Effect.Effect.Success<ReturnType<typeof rangeOf>>> = {}
              for (const tf of tfs) {
                const r = yield* rangeOf(key, tf)
                if (r === null) missing++
                else stored++
                ranges[tf] = r
              }
              return { symbol: key, ranges }
            }))
          return ok({
            symbols: out,
            requested_timeframes: tfs,
            cache_stats: { stored_series: stored, missing_series: missing }
          })
        }))
      .handle("discovered", ({ urlParams }) =>
        Effect.gen(function*() {
          const entries = yield* readCache
          const all = Object.entries(entries).map(([key, raw]) => {
            const e = obj(raw)
            const type = str(e["asset_type"], "")
            const at = num(e["validated_at"])
            return {
              symbol: str(e["symbol"], key),
              instrument_type: INSTRUMENT_TYPES[type] ?? "unknown",
              exchange: str(e["exchange"], "unknown"),
              currency: str(e["currency"], "unknown"),
              description: str(e["description"], key),
              discovered_at: at,
              last_validated: at,
              validation_count: 1,
              is_active: true
            }
          }).sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0))
          const wanted = urlParams.instrument_type?.toLowerCase()
          const symbols = wanted === undefined ? all : all.filter((s) => s.instrument_type === wanted)
          const types: Record<string, number> = {}
          for (const s of all) types[s.instrument_type] = (types[s.instrument_type] ?? 0) + 1
          return ok({
            symbols,
            total_count: symbols.length,
            instrument_types: types,
            cache_stats: { cached_symbols: all.length, file: catalog.file.split(/[\\/]/).pop() ?? "" }
          })
        }))
      .handle("updateConfig", ({ payload }) =>
        Effect.gen(function*() {
          const host = payload.host ?? undefined, port = payload.port ?? undefined
          const changes = (host !== undefined && host !== configOut.host) ||
            (port !== undefined && port !== configOut.port)
          if (changes) {
            return yield* new Conflict({
              code: "IB-CONFIG-FIXED",
              message: "The gateway address is fixed while the server runs: restart it with KTRDR_IB_HOST / " +
                "KTRDR_IB_PORT set to the new values",
              details: { current: { host: configOut.host, port: configOut.port }, requested: { host, port } }
            })
          }
          return ok({ previous_config: configOut, new_config: configOut, reconnect_required: false })
        }))
  }))
