/**
 * `ktrdr data show|range` (KTRDR's names, options and layouts; defects fixed: the date-range line is
 * real, 1w/1M are accepted, a missing series is "no data" with exit 0 instead of a generic error).
 * `data load` and `data gaps` live in their own files.
 */
import { dataTransferCommands } from "./dataTransfer.ts"
import { Command, Options } from "@effect/cli"
import { Effect, Option } from "effect"
import { KtrdrClient } from "./KtrdrClient.ts"
import { withClient } from "./connection.ts"
import { dataGapsCommand } from "./dataGaps.ts"
import { dataLoadCommand } from "./dataLoad.ts"
import { UsageError } from "./errors.ts"
import { mark } from "./timing.ts"
import {
  checkRange,
  connectionOptions,
  endOption,
  formatOption,
  startOption,
  symbolArg,
  timeframeOption
} from "./options.ts"
import { fmtInt, fmtTime, grid, print, printErr, printJson, table } from "./render.ts"
import { barsOutput, emit, noData, notStoredOutput, type ShowView } from "./showOutput.ts"

const rows = Options.integer("rows").pipe(
  Options.withAlias("r"),
  Options.withDefault(10),
  Options.withDescription("how many of the last bars to show (1–100000)  [default: 10]")
)

const show = Command.make(
  "show",
  {
    symbol: symbolArg,
    timeframe: timeframeOption,
    rows,
    start: startOption,
    end: endOption,
    tradingHours: Options.boolean("trading-hours").pipe(
      Options.withDescription("only bars inside the regular session")
    ),
    includeExtended: Options.boolean("include-extended").pipe(
      Options.withDescription("with --trading-hours: keep pre-market and after-hours bars")
    ),
    format: formatOption(["table", "json", "csv"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      if (o.rows < 1 || o.rows > 100_000) {
        return yield* new UsageError({ message: `--rows must be 1–100000, got ${o.rows}` })
      }
      yield* checkRange(o.start, o.end)
      const client = yield* KtrdrClient
      const r = yield* client.api.data.bars({
        path: { symbol: o.symbol, timeframe: o.timeframe },
        urlParams: {
          ...Option.match(o.start, { onNone: () => ({}), onSome: (start_date) => ({ start_date }) }),
          ...Option.match(o.end, { onNone: () => ({}), onSome: (end_date) => ({ end_date }) }),
          ...(o.tradingHours ? { trading_hours_only: true } : {}),
          ...(o.includeExtended ? { include_extended: true } : {}),
          // Only the rows shown travel: a 15-year minute series is not downloaded to print ten lines.
          limit: o.rows
        }
      }).pipe(
        Effect.map(Option.some),
        // A series that is not stored at all: the same "no data" answer as an empty range.
        Effect.catchTag("NotFoundError", (e) => (e.code === "DATA-NotFound" ? Effect.succeed(Option.none()) : e))
      )
      mark("response")
      const view: ShowView = {
        symbol: o.symbol,
        timeframe: o.timeframe,
        rows: o.rows,
        format: o.format,
        tradingHours: o.tradingHours,
        includeExtended: o.includeExtended,
        datesGiven: Option.isSome(o.start) || Option.isSome(o.end)
      }
      // The same output as the lane's (src/app/cliShow.ts), through the same code; any table is drawn here.
      const writes = Option.isNone(r) ? notStoredOutput(view) : barsOutput(view, r.value.data, table)!
      mark("render")
      return yield* Effect.sync(() => emit(writes))
    })
).pipe(withClient, Command.withDescription("Show stored bars of a series (never calls IB)"))

const range = Command.make(
  "range",
  {
    symbol: symbolArg,
    timeframe: timeframeOption,
    format: formatOption(["table", "json"] as const),
    ...connectionOptions
  },
  (o) =>
    Effect.gen(function*() {
      const client = yield* KtrdrClient
      const r = yield* client.api.data.range({ payload: { symbol: o.symbol, timeframe: o.timeframe } }).pipe(
        Effect.map((x) => Option.some(x.data)),
        // Nothing stored is an answer, not a failure (KTRDR meant this and printed a generic error).
        Effect.catchTag(
          "NotFoundError",
          (e) => (e.code === "DATA-NotFound" ? Effect.succeed(Option.none()) : Effect.fail(e))
        )
      )
      if (o.format === "json") {
        if (Option.isNone(r)) yield* printErr(...noData(o.symbol.toUpperCase(), o.timeframe, false))
        return yield* printJson({
          symbol: Option.match(r, { onNone: () => o.symbol.toUpperCase(), onSome: (x) => x.symbol }),
          timeframe: o.timeframe,
          range: Option.getOrNull(r)
        })
      }
      if (Option.isNone(r)) return yield* print(...noData(o.symbol.toUpperCase(), o.timeframe, false))
      const x = r.value
      return yield* print(
        `📅 ${x.symbol} (${x.timeframe}) - Data Range`,
        grid([
          ["Symbol", x.symbol],
          ["Timeframe", x.timeframe],
          ["Start Date", fmtTime(x.start_date)],
          ["End Date", fmtTime(x.end_date)],
          ["Data Points", fmtInt(x.point_count)]
        ])
      )
    })
).pipe(withClient, Command.withDescription("First and last stored bar of a series, and how many there are"))

/** The leaf commands, also walked by the help renderer (help.ts). */
export const dataSubcommands = [show, dataLoadCommand, range, dataGapsCommand, ...dataTransferCommands] as const

export const dataCommand = Command.make("data").pipe(
  Command.withDescription("Stored market data: show, load from IB, range, gaps, export and import as KTRDR CSV"),
  Command.withSubcommands(dataSubcommands)
)
