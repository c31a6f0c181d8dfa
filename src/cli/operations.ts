/**
 * `ktrdr operations list|status|cancel|retry` (KTRDR §4.3, defects fixed: real 404/409 messages,
 * Duration filled in, `-f json` on every command).
 */
import { Args, Command, Options } from "@effect/cli"
import { Effect, Option, Schema } from "effect"
import type { OperationInfo } from "../domain/operation.ts"
import { KtrdrClient } from "./KtrdrClient.ts"
import { withClient } from "./connection.ts"
import { CommandFailed } from "./errors.ts"
import { connectionOptions, formatOption } from "./options.ts"
import { fmtDuration, fmtFixed, fmtInt, fmtTime, grid, print, printErr, printJson, table, truncate } from "./render.ts"

const idArg = Args.text({ name: "ID" }).pipe(
  Args.withSchema(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100))),
  Args.withDescription("operation id, e.g. op_data_load_20250706_213401_1a2b3c4d")
)

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const
const TYPES = ["data_load", "training", "backtesting", "indicator_compute", "fuzzy_analysis"] as const

/** 404 and 409 say what happened to this id (KTRDR's intended messages, which its error wrapping lost). */
const explain = (id: string, action: "status" | "cancel" | "retry") =>
  Effect.catchTags({
    NotFoundError: () =>
      Effect.zipRight(
        printErr(`❌ Operation not found: ${id}`),
        Effect.fail(new CommandFailed({ reason: "not found" }))
      ),
    Conflict: (e: { readonly message: string }) =>
      Effect.zipRight(
        printErr(
          action === "cancel" ? "❌ Operation cannot be cancelled" : "❌ Operation cannot be retried",
          `   ${e.message}`
        ),
        Effect.fail(new CommandFailed({ reason: "conflict" }))
      )
  })

const list = Command.make(
  "list",
  {
    status: Options.choice("status", STATUSES).pipe(
      Options.withAlias("s"),
      Options.optional,
      Options.withDescription("only this status")
    ),
    type: Options.choice("type", TYPES).pipe(
      Options.withAlias("t"),
      Options.optional,
      Options.withDescription("only this operation type")
    ),
    limit: Options.integer("limit").pipe(
      Options.withAlias("l"),
      Options.withDefault(50),
      Options.withDescription("at most this many (1–1000)  [default: 50]")
    ),
    active: Options.boolean("active").pipe(Options.withAlias("a"), Options.withDescription("only pending or running")),
    format: formatOption(["table", "json"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      const r = yield* client.api.operations.list({
        urlParams: {
          limit: Math.max(1, Math.min(1000, o.limit)),
          ...(o.active ? { active_only: true } : {}),
          ...Option.match(o.status, { onNone: () => ({}), onSome: (status) => ({ status }) }),
          ...Option.match(o.type, { onNone: () => ({}), onSome: (operation_type) => ({ operation_type }) })
        }
      })
      if (o.format === "json") {
        return yield* printJson({ operations: r.data, total_count: r.total_count, active_count: r.active_count })
      }
      if (r.data.length === 0) {
        return yield* print(o.active ? "ℹ️  No active operations found" : "ℹ️  No operations found")
      }
      yield* print(
        "📋 Operations Summary",
        `Showing: ${r.data.length} operations`,
        `Total: ${r.total_count} | Active: ${r.active_count}`,
        table(
          [
            { header: "Operation ID" },
            { header: "Type" },
            { header: "Status" },
            { header: "Progress", align: "right" },
            { header: "Symbol" },
            { header: "Duration", align: "right" },
            { header: "Current Step" }
          ],
          r.data.map((x) => [
            x.operation_id,
            x.operation_type,
            x.status.toUpperCase(),
            `${x.progress_percentage.toFixed(0)}%`,
            x.symbol ?? "",
            fmtDuration(x.duration_seconds),
            truncate(x.current_step ?? "", 40)
          ])
        )
      )
    })
).pipe(withClient, Command.withDescription("List running and recent operations (newest first)"))

const detail = (x: OperationInfo) => {
  const p = x.progress
  const main = grid([
    ["Operation ID", x.operation_id],
    ["Type", x.operation_type],
    ["Status", x.status.toUpperCase()],
    ["Symbol", x.metadata.symbol ?? "N/A"],
    ["Timeframe", x.metadata.timeframe ?? "N/A"],
    ["Mode", x.metadata.mode ?? "N/A"],
    ["Created", fmtTime(x.created_at)],
    ["Started", fmtTime(x.started_at)],
    ["Completed", fmtTime(x.completed_at)],
    ["Duration", fmtDuration(x.duration_seconds)]
  ])
  const progress = grid([
    ["Percentage", `${fmtFixed(p.percentage, 1)}%`],
    ["Phase", p.phase ?? "N/A"],
    ["Current Step", p.current_step ?? "N/A"],
    ["Steps", `${p.steps_completed}/${p.steps_total}`],
    ["Segments", p.items_total === null ? "N/A" : `${p.items_processed}/${p.items_total}`],
    ["Bars Fetched", String(p.bars_fetched ?? 0)],
    ["Current Item", p.current_item ?? "N/A"]
  ])
  const summary = x.result_summary === null
    ? []
    : [
      "✅ Result Summary",
      grid(Object.entries(x.result_summary).map(([k, v]) => [k, v === null ? "N/A" : String(v)]))
    ]
  return [
    "📊 Operation",
    main,
    "📈 Progress Information",
    progress,
    ...summary,
    ...(x.retry_of ? [`🔁 Retry of ${x.retry_of}`] : [])
  ]
}

const status = Command.make("status", {
  id: idArg,
  format: formatOption(["table", "json"] as const),
  ...connectionOptions
}, (o) =>
  Effect.gen(function*() {
    const client = yield* KtrdrClient
    const x = (yield* client.api.operations.get({ path: { id: o.id } }).pipe(explain(o.id, "status"))).data
    if (o.format === "json") return yield* printJson(x)
    yield* print(...detail(x))
    if (x.error_message !== null) {
      yield* printErr(x.status === "cancelled" ? `🛑 Cancelled: ${x.error_message}` : `❌ ${x.error_message}`)
    }
    for (const w of x.warnings) yield* printErr(`⚠️  ${w}`)
  })).pipe(withClient, Command.withDescription("One operation's state, progress and result"))

const cancel = Command.make(
  "cancel",
  {
    id: idArg,
    reason: Options.text("reason").pipe(
      Options.withAlias("r"),
      Options.optional,
      Options.withDescription("recorded with the cancellation")
    ),
    format: formatOption(["table", "json"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      const r = yield* client.cancel(o.id, Option.getOrNull(o.reason)).pipe(explain(o.id, "cancel"))
      if (o.format === "json") return yield* printJson(r)
      const s = (r.operation.result_summary ?? {}) as Record<string, unknown>
      yield* print(
        `✅ Successfully cancelled operation: ${o.id}`,
        `🕐 Cancelled at: ${fmtTime(r.cancelled_at)}`,
        ...(r.cancellation_reason ? [`📝 Reason: ${r.cancellation_reason}`] : []),
        r.task_cancelled ? "🔄 Background task was cancelled" : "ℹ️  Operation was already stopping",
        `📦 Kept: ${
          fmtInt(Number(s["fetched_bars"] ?? r.operation.progress.bars_fetched ?? 0))
        } bars fetched before the cancel`
      )
    })
).pipe(
  withClient,
  Command.withDescription("Cancel a running load; answers once what it fetched is saved (never retried)")
)

const retry = Command.make("retry", {
  id: idArg,
  format: formatOption(["table", "json"] as const),
  ...connectionOptions
}, (o) =>
  Effect.gen(function*() {
    const client = yield* KtrdrClient
    const x = (yield* client.api.operations.retry({ path: { id: o.id } }).pipe(explain(o.id, "retry"))).data
    if (o.format === "json") return yield* printJson(x)
    yield* print(
      "✅ Successfully created retry operation",
      `Original: ${o.id}`,
      `New: ${x.operation_id}`,
      `Status: ${x.status.toUpperCase()}`,
      `💡 Use 'ktrdr operations status ${x.operation_id}' to monitor progress`
    )
  })).pipe(withClient, Command.withDescription("Run a failed or cancelled load again as a new operation"))

/** The leaf commands, also walked by the help renderer (help.ts). */
export const operationsSubcommands = [list, status, cancel, retry] as const

export const operationsCommand = Command.make("operations").pipe(
  Command.withDescription("Running and recent loads: list, status, cancel, retry"),
  Command.withSubcommands(operationsSubcommands)
)
