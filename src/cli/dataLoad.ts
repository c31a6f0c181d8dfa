/**
 * `ktrdr data load`: starts the load as an operation (POST /data/load?async_mode=true, never retried),
 * follows it through the server's event stream (no polling), and on Ctrl-C cancels it on the server
 * (DELETE, answered once the checkpoint is on disk), prints what was kept and exits 130.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option, Stream } from "effect"
import { isTerminal, type OperationInfo } from "../domain/operation.ts"
import { KtrdrClient, type KtrdrClientService } from "./KtrdrClient.ts"
import { withClient } from "./connection.ts"
import { CommandFailed, describe, ibLines } from "./errors.ts"
import {
  checkRange,
  connectionOptions,
  endOption,
  formatOption,
  startOption,
  symbolArg,
  timeframeOption
} from "./options.ts"
import { progressView, type ProgressView } from "./progress.ts"
import { fmtDuration, fmtInt, fmtTime, print, printErr, printJson } from "./render.ts"

const CANCEL_REASON = "User requested cancellation via CLI"

const options = {
  symbol: symbolArg,
  timeframe: timeframeOption,
  mode: Options.choice("mode", ["tail", "backfill", "full"] as const).pipe(
    Options.withAlias("m"),
    Options.withDefault("tail" as const),
    Options.withDescription(
      "tail: after the last stored bar; backfill: before the first; full: every gap in the range  [default: tail]"
    )
  ),
  start: startOption,
  end: endOption,
  tradingHours: Options.boolean("trading-hours").pipe(
    Options.withDescription("record a trading-hours filter with the load (KTRDR's `filters`)")
  ),
  includeExtended: Options.boolean("include-extended").pipe(
    Options.withDescription("with --trading-hours: include extended hours")
  ),
  noProgress: Options.boolean("no-progress").pipe(Options.withDescription("no live progress bar")),
  waitForGateway: Options.boolean("wait-for-gateway").pipe(
    Options.withDescription(
      "if the IB gateway cannot be reached, wait for it (progress shows each attempt) instead of failing at once"
    )
  ),
  quiet: Options.boolean("quiet").pipe(Options.withAlias("q"), Options.withDescription("print only the outcome")),
  format: formatOption(["table", "json"] as const),
  ...connectionOptions
}

type LoadOptions = Command.Command.ParseConfig<typeof options>

const summary = (info: OperationInfo) => (info.result_summary ?? {}) as Record<string, unknown>
const num = (x: unknown) => (typeof x === "number" ? x : 0)

/** The final state: the stream's `end` event, or — if the stream broke off — one GET. */
const follow = (client: KtrdrClientService, id: string, view: ProgressView) =>
  Effect.gen(function*() {
    const last = yield* client.events(id).pipe(
      Stream.tap((e) => view.update(e.info)),
      Stream.runLast,
      Effect.map(Option.map((e) => e.info)),
      Effect.catchAll((e) =>
        Effect.as(
          Effect.logWarning(`event stream of ${id} broke off: ${describe(e, client.target).lines.join(" ")}`),
          Option.none<OperationInfo>()
        )
      )
    )
    yield* view.done
    if (Option.isSome(last) && isTerminal(last.value.status)) return last.value
    return (yield* client.api.operations.get({ path: { id } })).data
  })

/** Ctrl-C: cancel on the server, then say what the load kept. Runs uninterruptibly (a finalizer). */
const cancelOnInterrupt = (client: KtrdrClientService, id: string, o: LoadOptions, view: ProgressView) =>
  Effect.gen(function*() {
    yield* view.done
    yield* printErr(`🛑 Cancellation requested... stopping operation ${id}`)
    const r = yield* client.cancel(id, CANCEL_REASON).pipe(Effect.timeout("60 seconds"), Effect.either)
    if (r._tag === "Left") {
      const d = describe(r.left, client.target)
      return yield* printErr(`Cancel failed: ${d.lines.join(" ")}`)
    }
    const info = r.right.operation
    const s = summary(info)
    const kept = num(s["fetched_bars"] ?? info.progress.bars_fetched)
    if (o.format === "json") {
      return yield* printJson({
        symbol: o.symbol,
        timeframe: o.timeframe,
        mode: o.mode,
        success: false,
        status: info.status,
        operation_id: id,
        cancelled: r.right.task_cancelled,
        bars_kept: kept,
        details: info.result_summary
      })
    }
    yield* printErr(
      r.right.task_cancelled
        ? "✅ Cancellation sent successfully"
        : `ℹ️  The operation had already finished (${info.status})`,
      `🛑 Operation cancelled by user: kept ${fmtInt(kept)} bars fetched before the cancel` +
        (typeof s["first_bar"] === "string"
          ? `; stored ${fmtTime(s["first_bar"] as string)} to ${fmtTime(s["last_bar"] as string | null)}`
          : "")
    )
  })

/** " (3 retried: pacing 2, connectivity 1)" when the load had to send requests again; "" otherwise. */
const retriedText = (s: Record<string, unknown>): string => {
  const n = num(s["requests_retried"])
  if (n === 0) return ""
  const reasons = Object.entries((s["retry_reasons"] ?? {}) as Record<string, number>)
  return ` (${n} retried${reasons.length === 0 ? "" : `: ${reasons.map(([k, v]) => `${k} ${v}`).join(", ")}`})`
}

const reportOutcome = (info: OperationInfo, o: LoadOptions) =>
  Effect.gen(function*() {
    const s = summary(info)
    if (info.status === "completed") {
      const status = String(s["status"] ?? "success")
      if (o.format === "json") {
        return yield* printJson({
          symbol: o.symbol,
          timeframe: o.timeframe,
          mode: o.mode,
          success: true,
          status,
          operation_id: info.operation_id,
          bars_loaded: num(s["fetched_bars"]),
          execution_time_seconds: num(s["execution_time_seconds"]),
          details: info.result_summary,
          ...(info.warnings.length > 0 ? { warning: info.warnings.join("; ") } : {})
        })
      }
      const head = status === "partial"
        ? `⚠️  Partially loaded ${fmtInt(num(s["fetched_bars"]))} bars`
        : num(s["fetched_bars"]) === 0 && num(s["new_bars"]) === 0
        ? "✅ Up to date: no new bars in the range"
        : `✅ Successfully loaded ${fmtInt(num(s["fetched_bars"]))} bars`
      const range = typeof s["range_start"] === "string"
        ? [`   Range: ${fmtTime(s["range_start"] as string)} to ${fmtTime(s["range_end"] as string | null)}`]
        : []
      const defaulted = typeof s["default_history"] === "string"
        ? [
          `   First load of ${o.symbol.toUpperCase()} ${o.timeframe}: the default history (${s["default_history"]}).`,
          `   For more: ktrdr data load ${o.symbol.toUpperCase()} -t ${o.timeframe} -m backfill --start YYYY-MM-DD`
        ]
        : []
      const stored = typeof s["first_bar"] === "string"
        ? ` (${fmtTime(s["first_bar"] as string)} to ${fmtTime(s["last_bar"] as string | null)})`
        : ""
      yield* print(
        head,
        ...range,
        `   New bars: ${fmtInt(num(s["new_bars"]))} | Stored: ${fmtInt(num(s["total_bars"]))}${stored}`,
        `   Segments: ${num(s["segments_fetched"])}/${num(s["segments_planned"])} | IB requests: ${
          num(s["ib_requests_made"])
        }${retriedText(s)}`,
        `⏱️  Duration: ${fmtDuration(num(s["execution_time_seconds"]))}`,
        ...defaulted
      )
      for (const w of info.warnings) yield* printErr(`⚠️  ${w}`)
      return
    }
    // Failed, or cancelled by someone else: exit 1 with the server's reason (IB code included).
    const failure = info.failure ??
      {
        code: info.status === "cancelled" ? "OPERATIONS-Cancelled" : "DATA-LoadFailed",
        message: info.error_message ?? info.status,
        details: null
      }
    if (o.format === "json") {
      yield* printJson({
        symbol: o.symbol,
        timeframe: o.timeframe,
        mode: o.mode,
        success: false,
        status: info.status,
        operation_id: info.operation_id,
        error: failure
      })
    } else if (info.status === "cancelled") {
      yield* printErr(`🛑 Operation ${info.operation_id} was cancelled: ${failure.message}`)
    } else {
      yield* printErr(
        "❌ Data loading failed!",
        `🚨 Error: ${failure.message} [${failure.code}]`,
        ...ibLines(failure.details)
      )
    }
    return yield* new CommandFailed({ reason: info.status })
  })

export const dataLoadCommand = Command.make("load", options, (o) =>
  // Uninterruptible until the operation exists: a Ctrl-C during the POST waits for its answer and
  // then cancels the operation, instead of leaving a load running on the server that nobody follows.
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      yield* checkRange(o.start, o.end)
      const client = yield* KtrdrClient
      const human = o.format === "table" && !o.quiet
      const started = yield* client.api.data.load({
        urlParams: { async_mode: true },
        payload: {
          symbol: o.symbol,
          timeframe: o.timeframe,
          mode: o.mode,
          start_date: Option.getOrNull(o.start),
          end_date: Option.getOrNull(o.end),
          ...(o.waitForGateway ? { wait_for_gateway: true } : {}),
          ...(o.tradingHours || o.includeExtended
            ? { filters: { trading_hours_only: o.tradingHours, include_extended: o.includeExtended } }
            : {})
        }
      }).pipe(Effect.timeout("30 seconds"))
      const id = started.data.operation_id
      if (id === null) return yield* new CommandFailed({ reason: "the server started no operation" })
      // Announced once the server has accepted the load: a refused request prints only the error.
      if (human) {
        yield* print(
          `🚀 Loading data for ${o.symbol} (${o.timeframe})`,
          `📋 Mode: ${o.mode} | Trading hours filter: ${
            o.tradingHours ? (o.includeExtended ? "regular + extended" : "regular") : "off"
          }`
        )
        if (Option.isSome(o.start) || Option.isSome(o.end)) {
          yield* print(
            `📅 Date range: ${Option.getOrElse(o.start, () => "earliest")} to ${
              Option.getOrElse(o.end, () => "latest")
            }`
          )
        }
        yield* print(`⚡ Started operation: ${id}`)
      }
      const view = yield* progressView(human && !o.noProgress)
      const final = yield* restore(follow(client, id, view)).pipe(
        Effect.onInterrupt(() => cancelOnInterrupt(client, id, o, view))
      )
      yield* restore(reportOutcome(final, o))
    })
  )).pipe(
    withClient,
    Command.withDescription(
      "Load bars from IB into the store, with live progress; Ctrl-C cancels the load on the server"
    )
  )
