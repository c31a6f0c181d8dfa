/**
 * `ktrdr data gaps`: KTRDR's unregistered `gap-analysis analyze`, now over HTTP
 * (GET /api/v1/gap-analysis/data/:symbol/:tf/gaps) with its summary, breakdown, recommendations and —
 * in extended or verbose mode — the gap list. Reads only the store and calendars: works with IB down.
 */
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { KtrdrClient } from "./KtrdrClient.ts"
import { withClient } from "./connection.ts"
import {
  checkRange,
  connectionOptions,
  endOption,
  formatOption,
  startOption,
  symbolArg,
  timeframeOption
} from "./options.ts"
import { fmtInt, fmtTime, grid, print, printJson, table, truncate } from "./render.ts"

const mode = Options.choice("mode", ["normal", "extended", "verbose"] as const).pipe(
  Options.withDefault("normal" as const),
  Options.withDescription(
    "normal: summary; extended: plus the gaps with missing bars; verbose: every gap  [default: normal]"
  )
)

export const dataGapsCommand = Command.make(
  "gaps",
  {
    symbol: symbolArg,
    timeframe: timeframeOption,
    start: startOption,
    end: endOption,
    mode,
    format: formatOption(["table", "json"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      yield* checkRange(o.start, o.end)
      const client = yield* KtrdrClient
      const r = yield* client.api.gaps.gaps({
        path: { symbol: o.symbol, timeframe: o.timeframe },
        urlParams: {
          mode: o.mode,
          ...(o.mode === "verbose" ? { include_expected: true } : {}),
          ...Option.match(o.start, { onNone: () => ({}), onSome: (start_date) => ({ start_date }) }),
          ...Option.match(o.end, { onNone: () => ({}), onSome: (end_date) => ({ end_date }) })
        }
      })
      const a = r.data
      if (o.format === "json") return yield* printJson(a)
      const s = a.summary
      const b = s.missing_breakdown
      yield* print(
        `🔍 ${a.symbol} (${a.timeframe}) - Gap Analysis`,
        `Period: ${fmtTime(a.analysis_period.start)} to ${fmtTime(a.analysis_period.end)} (UTC, ${
          fmtInt(a.analysis_period.trading_days_in_period)
        } trading days)`,
        grid([
          ["Expected Bars", fmtInt(s.expected_bars)],
          ["Actual Bars", fmtInt(s.actual_bars)],
          ["Missing Bars", fmtInt(s.total_missing)],
          ["Completeness", `${s.data_completeness_pct.toFixed(1)}%`]
        ], ["Metric", "Value"]),
        "Missing Bars Breakdown",
        grid([
          ["Unexpected", fmtInt(b.unexpected)],
          ["Not loaded (outside the stored range)", fmtInt(b.not_loaded)],
          ["Expected (weekend)", fmtInt(b.expected_weekend)],
          ["Expected (trading hours)", fmtInt(b.expected_trading_hours)],
          ["Expected (holiday)", fmtInt(b.expected_holiday)]
        ], ["Type", "Bars"])
      )
      if (o.mode !== "normal") {
        yield* print(
          `Detailed Gaps (${a.gaps.length})`,
          table(
            [
              { header: "Type" },
              { header: "Duration", align: "right" },
              { header: "Bars", align: "right" },
              { header: "Context" },
              { header: "Start Time" },
              { header: "Note" }
            ],
            a.gaps.map((
              g
            ) => [
              g.classification,
              `${g.duration_hours.toFixed(1)}h`,
              fmtInt(g.bars_missing),
              g.day_context,
              fmtTime(g.start_time),
              truncate(g.note ?? "", 50)
            ])
          )
        )
      }
      yield* print(...a.recommendations.map((x) => `• ${x}`))
    })
).pipe(withClient, Command.withDescription("Missing bars of a stored series against its exchange calendar"))
