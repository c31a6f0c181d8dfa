/**
 * KTRDR's /ib endpoints over the real graph. At most one of two sources is in it: this process's own
 * session (IbConnection: direct mode) or another server's (RemoteIbHost: remote mode). Both are looked
 * up optionally so one handler layer serves either graph; with neither (a cluster runner, whose
 * gateways' sessions live on their owners) status and health say what GatewayInfo knows. Status and
 * health only read state: neither opens a connection nor sends a gateway request (remote status asks
 * the host for its status).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Clock, Effect, Either, Option, Stream } from "effect"
import { describeError } from "../../domain/errorBody.ts"
import type { Instrument } from "../../domain/Instrument.ts"
import { IbConfig } from "../../layers/Config.ts"
import { GatewayInfo, type GatewayReadiness } from "../../layers/GatewayInfo.ts"
import { IbClient, type ClientStats } from "../../layers/IbClient.ts"
import { IbConnection } from "../../layers/IbConnection.ts"
import { ibStatus } from "../../layers/IbStatus.ts"
import { PaceGate } from "../../layers/PaceGate.ts"
import { RemoteIbHost } from "../../layers/RemoteIb.ts"
import { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import type { GatewayEvent, IbHealth, IbStatusData } from "../../contract/api/ib.ts"
import { GatewayUnavailable, ok } from "../../contract/envelope.ts"
import { apiErrors } from "../errorMapping.ts"
import { ibConfigView, portOf } from "../ibConfigView.ts"
import { sseResponse } from "../sse.ts"

const iso = (
  ms: number | null | undefined
): string | null => (ms === null || ms === undefined ? null : new Date(ms).toISOString())
/** Epoch seconds as KTRDR's floats (`time.time()`). */
const epochSeconds = (ms: number | null | undefined): number | null =>
  ms === null || ms === undefined ? null : ms / 1000
const ibLabel = (code: number, category: string) => (code > 0 ? `IB-${code}` : `IB-${category}`)

/** Connection metrics of a process that holds no session itself. */
const noSession: IbStatusData["connection_metrics"] = {
  total_connections: 0,
  failed_connections: 0,
  last_connect_time: null,
  last_disconnect_time: null,
  uptime_seconds: null
}

const dataMetrics = (s: ClientStats): IbStatusData["data_metrics"] => {
  const failed = Object.values(s.requestsFailed).reduce((a, b) => a + b, 0)
  const total = s.requestsOk + failed
  return {
    total_requests: total,
    successful_requests: s.requestsOk,
    failed_requests: failed,
    total_bars_fetched: s.barsReceived,
    success_rate: total === 0 ? 100 : (s.requestsOk / total) * 100,
    failed_by_category: { ...s.requestsFailed },
    pacing_retries: s.pacingRetries,
    cancels_sent: s.cancelsSent
  }
}

const INSTRUMENT_TYPE = { STK: "stock", CASH: "forex", FUT: "future", IND: "index" } as const

const symbolInfo = (i: Instrument, nowMs: number) => {
  const validated = i.validatedAt / 1000
  const today = new Date(nowMs).toISOString().slice(0, 10).replaceAll("-", "")
  return {
    symbol: i.symbol,
    instrument_type: INSTRUMENT_TYPE[i.secType],
    exchange: i.primaryExchange,
    currency: i.currency,
    description: i.description,
    discovered_at: validated,
    last_validated: validated,
    validation_count: 1,
    is_active: i.expiry === undefined || i.expiry >= today,
    series_key: i.seriesKey,
    sec_type: i.secType,
    con_id: i.conId ?? null,
    ib_symbol: i.ibSymbol,
    local_symbol: i.localSymbol,
    routing_exchange: i.exchange,
    time_zone: i.timeZone,
    trading_hours: i.tradingHours,
    liquid_hours: i.liquidHours,
    expiry: i.expiry ?? null
  }
}

export const IbLiveHandlers = HttpApiBuilder.group(KtrdrApi, "ib", (handlers) =>
  Effect.gen(function*() {
    const ib = yield* IbClient
    const gate = yield* PaceGate
    const cfg = yield* IbConfig
    const gw = yield* GatewayInfo
    const catalog = yield* SymbolCatalog
    const conn = yield* Effect.serviceOption(IbConnection)
    const remote = yield* Effect.serviceOption(RemoteIbHost)

    const pacing = Effect.map(
      gate.stats,
      (g) => ({ waits: g.waits, total_wait_ms: Math.round(g.totalWaitMs), in_flight: g.inFlight, queued: g.queued })
    )

    // Status and health report on the session, so a lazy connection (embedded CLI) starts it; a server's runs already.
    const directStatus = (c: IbConnection["Type"]) =>
      Effect.gen(function*() {
        yield* c.start
        const info = yield* ibStatus.pipe(
          Effect.provideService(IbConnection, c),
          Effect.provideService(IbClient, ib),
          Effect.provideService(PaceGate, gate)
        )
        const now = yield* Clock.currentTimeMillis
        const s = info.state
        const up = s._tag === "Ready" || s._tag === "Degraded"
        const e = info.lastError
        return {
          connection: {
            connected: up,
            host: info.host,
            port: info.port,
            client_id: info.clientId,
            connection_time: iso(info.connectedSince)
          },
          connection_metrics: {
            total_connections: info.counters.connects,
            failed_connections: info.counters.connectFailures,
            last_connect_time: epochSeconds(info.connectedSince),
            last_disconnect_time: epochSeconds(info.lastDisconnectAt),
            uptime_seconds: info.connectedSince === null ? null : Math.max(0, now - info.connectedSince) / 1000
          },
          data_metrics: dataMetrics(info.requests),
          ib_available: up,
          mode: "direct" as const,
          simulated: gw.simulated,
          state: s._tag,
          server_version: info.serverVersion,
          farms: info.farms,
          pacing: {
            waits: info.pacing.waits,
            total_wait_ms: Math.round(info.pacing.totalWaitMs),
            in_flight: info.pacing.inFlight,
            queued: info.pacing.queued
          },
          last_error: e
            ? {
              code: ibLabel(e.code, e.category),
              ib_code: e.code,
              category: e.category,
              message: e.message,
              at: iso(e.at)!
            }
            : null,
          host_service: null
        } satisfies IbStatusData
      })

    const remoteStatus = (r: RemoteIbHost["Type"]) =>
      Effect.gen(function*() {
        const host = yield* Effect.either(r.status)
        const act = yield* r.activity
        const f = act.lastFailure
        const common = {
          data_metrics: dataMetrics(yield* ib.stats),
          mode: "remote" as const,
          pacing: yield* pacing,
          last_error: f
            ? {
              code: ibLabel(f.code, f.category),
              ib_code: f.code,
              category: f.category,
              message: f.message,
              at: iso(f.at)!
            }
            : null
        }
        if (Either.isLeft(host)) {
          const reachable = host.left.category !== "connectivity" && host.left.category !== "timeout"
          return {
            ...common,
            connection: { connected: false, host: r.url, port: portOf(r.url), client_id: null, connection_time: null },
            connection_metrics: noSession,
            ib_available: false,
            simulated: gw.simulated,
            state: reachable ? "Unknown" : "Unreachable",
            server_version: null,
            farms: null,
            host_service: { url: r.url, reachable, error: host.left.message, gateway_host: null, gateway_port: null }
          } satisfies IbStatusData
        }
        const h = host.right
        return {
          ...common,
          // As KTRDR's host mode: the connection is named by the host service's URL.
          connection: { ...h.connection, host: r.url, port: portOf(r.url) },
          connection_metrics: h.connection_metrics,
          ib_available: h.ib_available,
          simulated: h.simulated,
          state: h.state,
          server_version: h.server_version,
          farms: h.farms,
          host_service: {
            url: r.url,
            reachable: true,
            error: null,
            gateway_host: h.host_service?.gateway_host ?? h.connection.host,
            gateway_port: h.host_service?.gateway_port ?? h.connection.port
          }
        } satisfies IbStatusData
      })

    const directHealth = (c: IbConnection["Type"]) =>
      Effect.map(Effect.zip(Effect.zipRight(c.start, c.info), ib.stats), ([info, requests]): IbHealth => {
        const s = info.state
        const connectionOk = s._tag === "Ready" || (s._tag === "Degraded" && s.reason === "hmds-broken")
        const dataOk = s._tag === "Ready" && info.farms.hmds === "ok"
        const problems: Array<string> = []
        if (s._tag === "Reconnecting") {
          problems.push(
            `IB connection is reconnecting after [${
              ibLabel(s.lastError.code, s.lastError.category)
            }] ${s.lastError.message}`
          )
        } else if (s._tag === "Degraded" && s.reason === "connectivity-lost") {
          problems.push("IB lost its connection to IB's servers (1100)")
        } else if (!connectionOk) problems.push(`IB connection is ${s._tag}`)
        if (connectionOk && !dataOk) problems.push("IB's historical data farm is down (2105)")
        return {
          healthy: connectionOk && dataOk,
          connection_ok: connectionOk,
          data_fetching_ok: dataOk,
          last_successful_request: iso(requests.lastOkAt ?? null),
          error_message: problems.length === 0 ? null : problems.join("; "),
          mode: "direct",
          state: s._tag
        }
      })

    const remoteHealth = (r: RemoteIbHost["Type"]) =>
      Effect.gen(function*() {
        const ready = yield* gw.readiness
        const act = yield* r.activity
        const f = act.lastFailure
        // A request that could not reach the gateway since the last one that did.
        const failing = f !== null && (f.category === "connectivity" || f.category === "timeout") &&
          (act.lastOkAt === null || f.at > act.lastOkAt)
        const problems: Array<string> = []
        if (ready.state === "Unreachable") problems.push(`IB host service ${r.url} is unreachable`)
        else if (!ready.ready) problems.push(`the gateway of IB host service ${r.url} is ${ready.state}`)
        if (failing) problems.push(`the last request failed: ${f.message}`)
        return {
          healthy: ready.ready && !failing,
          connection_ok: ready.ready,
          data_fetching_ok: ready.ready && !failing,
          last_successful_request: iso(act.lastOkAt),
          error_message: problems.length === 0 ? null : problems.join("; "),
          mode: "remote",
          state: ready.state
        } satisfies IbHealth
      })

    /**
     * Neither a session here nor a host service (a cluster runner): what GatewayInfo knows — the gateways' readiness,
     * asked of their owners — and this process's own requests.
     */
    const readinessStatus = Effect.gen(function*() {
      const r = yield* gw.readiness
      return {
        connection: { connected: r.ready, host: "cluster", port: 0, client_id: null, connection_time: null },
        connection_metrics: noSession,
        data_metrics: dataMetrics(yield* ib.stats),
        ib_available: r.ready,
        mode: gw.mode,
        simulated: gw.simulated,
        state: r.state,
        server_version: null,
        farms: r.farms ?? null,
        pacing: yield* pacing,
        last_error: null,
        host_service: null
      } satisfies IbStatusData
    })

    const readinessHealth = Effect.gen(function*() {
      const r = yield* gw.readiness
      const stats = yield* ib.stats
      return {
        healthy: r.ready,
        connection_ok: r.ready,
        data_fetching_ok: r.ready,
        last_successful_request: iso(stats.lastOkAt ?? null),
        error_message: r.ready ? null : r.lastError ?? `gateways are ${r.state}`,
        mode: gw.mode,
        state: r.state
      } satisfies IbHealth
    })

    const config = ibConfigView(cfg, Option.getOrUndefined(remote)?.url)

    const gatewayEvent = (r: GatewayReadiness): GatewayEvent => ({
      ready: r.ready,
      state: r.state,
      mode: gw.mode,
      simulated: gw.simulated,
      farms: r.farms ?? null,
      attempt: r.attempt ?? null,
      next_attempt_at: iso(r.nextAttemptAt),
      last_error: r.lastError ?? null
    })

    return handlers
      .handle("events", () =>
        Effect.succeed(
          sseResponse(
            gw.changes.pipe(
              Stream.zipWithIndex,
              Stream.map(([r, i]) => ({ id: i, event: "gateway", data: gatewayEvent(r) }))
            )
          )
        ))
      .handle("status", () =>
        Option.isSome(remote) ?
          Effect.map(remoteStatus(remote.value), ok)
          : Option.isSome(conn) ?
          Effect.map(directStatus(conn.value), ok)
          : Effect.map(readinessStatus, ok))
      .handle("health", () =>
        Effect.gen(function*() {
          const health = Option.isSome(remote) ?
            yield* remoteHealth(remote.value)
            : Option.isSome(conn) ?
            yield* directHealth(conn.value)
            : yield* readinessHealth
          if (health.healthy) return ok(health)
          return yield* new GatewayUnavailable({
            code: "IB-UNHEALTHY",
            message: `IB connection is unhealthy: ${health.error_message}`,
            details: health
          })
        }))
      .handle("config", () =>
        Effect.succeed(
          ok(config)
        ))
      .handle("discover", ({ payload }) =>
        Effect.gen(function*() {
          const started = yield* Clock.currentTimeMillis
          const t0 = yield* Clock.currentTimeNanos
          const force = payload.force_refresh ?? false
          const found = yield* catalog.resolve(payload.symbol, { refresh: force }).pipe(
            Effect.map(Either.right),
            // IB does not know it: KTRDR's 200 with a null symbol_info, plus what IB said
            Effect.catchTag("UnknownSymbol", (e) => Effect.succeed(Either.left(e)))
          )
          const ms = Number((yield* Clock.currentTimeNanos) - t0) / 1e6
          if (Either.isLeft(found)) {
            const { kind: _kind, ...why } = describeError(found.left)
            return ok({
              symbol_info: null,
              not_found: why,
              cached: false,
              discovery_time_ms: Math.round(ms * 100) / 100
            })
          }
          const instrument = found.right
          return ok({
            symbol_info: symbolInfo(instrument, started),
            not_found: null,
            // A lookup stamps the instrument with its own time; anything older came from the cache file.
            cached: !force && instrument.validatedAt < started,
            discovery_time_ms: Math.round(ms * 100) / 100
          })
        }).pipe(apiErrors))
  }))
