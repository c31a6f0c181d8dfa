/**
 * `ktrdr ib status|health|symbol`: the server's real gateway state and symbol discovery (KTRDR's `ib`
 * commands printed hard-coded placeholders and never called /ib/*). IB failures keep their codes.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Schedule } from "effect"
import { KtrdrClient, type KtrdrClientService } from "./KtrdrClient.ts"
import { withClient } from "./connection.ts"
import { NotFoundError } from "../contract/envelope.ts"
import { CommandFailed } from "./errors.ts"
import { connectionOptions, formatOption, symbolArg } from "./options.ts"
import { fmtDuration, fmtInt, fmtTime, grid, print, printErr, printJson } from "./render.ts"

/**
 * An embedded command's gateway session starts with the command (asking for the status starts it): give
 * it until the first attempt's outcome — ready, or failed — before reporting on it, at most 10 s. A
 * server's session is long-lived: its state is reported as it is.
 */
const settled = (client: KtrdrClientService) =>
  client.embedded
    ? client.api.ib.status().pipe(
      Effect.zipRight(client.api.health.health()),
      Effect.repeat({
        schedule: Schedule.spaced("50 millis"),
        until: (h) => h.gateway.ready || h.gateway.state === "Reconnecting"
      }),
      Effect.timeout("10 seconds"),
      Effect.ignore
    )
    : Effect.void

const yesNo = (b: boolean) => (b ? "yes" : "no")
const orNA = (x: string | number | null) => (x === null ? "N/A" : String(x))

const status = Command.make(
  "status",
  { format: formatOption(["table", "json"] as const), ...connectionOptions },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      yield* settled(client)
      const s = (yield* client.api.ib.status()).data
      if (o.format === "json") return yield* printJson(s)
      const c = s.connection
      const m = s.connection_metrics
      const d = s.data_metrics
      yield* print(
        `🔌 IB Gateway: ${s.state}${s.simulated ? " (SIMULATED gateway)" : ""}`,
        grid([
          ["Connected", yesNo(c.connected)],
          ["Gateway", `${c.host}:${c.port}`],
          ["Client ID", orNA(c.client_id)],
          ["Mode", s.mode],
          ["Connected since", fmtTime(c.connection_time)],
          ["Server version", orNA(s.server_version)],
          ["Farms", s.farms === null ? "N/A" : `hmds ${s.farms.hmds}, connectivity ${s.farms.connectivity}`]
        ]),
        "📈 Metrics",
        grid([
          ["Connections", `${m.total_connections} (${m.failed_connections} failed)`],
          ["Uptime", fmtDuration(m.uptime_seconds)],
          [
            "Requests",
            `${fmtInt(d.total_requests)} (${fmtInt(d.failed_requests)} failed, ${d.success_rate.toFixed(1)}% ok)`
          ],
          ["Bars fetched", fmtInt(d.total_bars_fetched)],
          ["Pacing waits", `${s.pacing.waits} (${fmtDuration(s.pacing.total_wait_ms / 1000)})`],
          ["In flight / queued", `${s.pacing.in_flight} / ${s.pacing.queued}`]
        ], ["Metric", "Value"])
      )
      if (s.last_error !== null) {
        yield* printErr(
          `⚠️  Last IB error: ${s.last_error.message} [${s.last_error.code}, ${s.last_error.category}] at ${
            fmtTime(s.last_error.at)
          }`
        )
      }
    })
).pipe(withClient, Command.withDescription("The server's gateway session: connection, farms, request metrics, pacing"))

const health = Command.make(
  "health",
  { format: formatOption(["table", "json"] as const), ...connectionOptions },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      yield* settled(client)
      const h = yield* client.api.ib.health().pipe(
        Effect.map((r) => r.data),
        // 503 carries the health in its details: still an answer to print, then exit 1.
        Effect.catchTag("GatewayUnavailable", (e) => Effect.succeed({ unhealthy: e }))
      )
      if ("unhealthy" in h) {
        if (o.format === "json") {
          yield* printJson({
            healthy: false,
            code: h.unhealthy.code,
            message: h.unhealthy.message,
            details: h.unhealthy.details
          })
        } else yield* printErr(`❌ IB gateway unhealthy: ${h.unhealthy.message} [${h.unhealthy.code}]`)
        return yield* new CommandFailed({ reason: "unhealthy" })
      }
      if (o.format === "json") return yield* printJson(h)
      yield* print(
        `✅ IB gateway healthy (${h.state}, ${h.mode})`,
        grid([["Connection", yesNo(h.connection_ok)], ["Data fetching", yesNo(h.data_fetching_ok)], [
          "Last successful request",
          fmtTime(h.last_successful_request)
        ]])
      )
    })
).pipe(withClient, Command.withDescription("Is the gateway usable? Exit 0 if healthy, 1 if not"))

const symbol = Command.make(
  "symbol",
  {
    symbol: symbolArg,
    forceRefresh: Options.boolean("force-refresh").pipe(
      Options.withDescription("ask IB even when the symbol cache has it")
    ),
    format: formatOption(["table", "json"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      const r = (yield* client.api.ib.discover({ payload: { symbol: o.symbol, force_refresh: o.forceRefresh } })).data
      if (o.format === "json") return yield* printJson(r)
      const s = r.symbol_info
      // IB does not know the symbol (KTRDR's 200 with a null symbol_info): an error with IB's code and suggestions
      if (s === null) {
        return yield* new NotFoundError(
          r.not_found ?? { code: "IB-200", message: `${o.symbol}: unknown to IB`, details: null }
        )
      }
      yield* print(
        `🔎 ${s.symbol}: ${s.description}${r.cached ? " (from the symbol cache)" : ""}`,
        grid([
          ["Type", s.instrument_type],
          ["Exchange", s.exchange],
          ["Currency", s.currency],
          ["Series key", s.series_key],
          ["IB symbol", s.ib_symbol],
          ["Local symbol", s.local_symbol],
          ["Contract id", orNA(s.con_id)],
          ["Time zone", s.time_zone],
          ["Expiry", orNA(s.expiry)],
          ["Active", yesNo(s.is_active)],
          ["Validated", fmtTime(new Date(s.last_validated * 1000).toISOString())],
          ["Lookup", `${r.discovery_time_ms.toFixed(0)} ms`]
        ])
      )
    })
).pipe(withClient, Command.withDescription("Validate a symbol with IB (through the server's symbol cache)"))

/** The leaf commands, also walked by the help renderer (help.ts). */
export const ibSubcommands = [status, health, symbol] as const

export const ibCommand = Command.make("ib").pipe(
  Command.withDescription("The IB gateway as the server sees it: status, health, symbol lookup"),
  Command.withSubcommands(ibSubcommands)
)
