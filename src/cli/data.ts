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
import { csv, fmtFixed, fmtInt, fmtTime, grid, print, printErr, printJson, table } from "./render.ts"

const rows = Options.integer("rows").pipe(
  Options.withAlias("r"),
  Options.withDefault(10),
  Options.withDescription("how many of the last bars to show (1–100000)  [default: 10]")
)

/** The answer for a series that is not stored at all, in each format (as for an empty range). */
const notStored = (symbol: string, tf: string, format: "table" | "json" | "csv", datesGiven: boolean) =>
  format === "table"
    ? print(...noData(symbol, tf, datesGiven))
    : Effect.zipRight(
      printErr(...noData(symbol, tf, datesGiven)),
      format === "json"
        ? printJson({ symbol, timeframe: tf, total_rows: 0, displayed_rows: 0, metadata: null, data: [] })
        : Effect.sync(() => void process.stdout.write(csv(["Date", "Open", "High", "Low", "Close", "Volume"], [])))
    )

const noData = (symbol: string, tf: string, datesGiven: boolean) => [
  `ℹ️  No cached data found for ${symbol} (${tf})`,
  datesGiven
    ? "Try adjusting the date range, or load it with 'ktrdr data load'"
    : `Try loading data first with 'ktrdr data load ${symbol} -t ${tf}'`
]

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
      const datesGiven = Option.isSome(o.start) || Option.isSome(o.end)
      if (Option.isNone(r)) return yield* notStored(o.symbol.toUpperCase(), o.timeframe, o.format, datesGiven)
      const d = r.value.data
      const symbol = d.metadata.symbol
      const total = d.metadata.total_count
      const from = Math.max(0, d.dates.length - o.rows)
      const bars = d.dates.slice(from).map((date, i) => ({ date, v: d.ohlcv[from + i] ?? [] }))
      switch (o.format) {
        case "json":
          if (total === 0) yield* printErr(...noData(symbol, o.timeframe, datesGiven))
          return yield* printJson({
            symbol,
            timeframe: o.timeframe,
            total_rows: total,
            displayed_rows: bars.length,
            metadata: d.metadata,
            data: bars.map(({ date, v }) => ({
              index: fmtTime(date),
              Open: v[0],
              High: v[1],
              Low: v[2],
              Close: v[3],
              Volume: v[4]
            }))
          })
        case "csv":
          if (total === 0) yield* printErr(...noData(symbol, o.timeframe, datesGiven))
          return yield* Effect.sync(() =>
            process.stdout.write(
              csv(["Date", "Open", "High", "Low", "Close", "Volume"], bars.map(({ date, v }) => [fmtTime(date), ...v]))
            )
          )
        case "table": {
          if (total === 0) return yield* print(...noData(symbol, o.timeframe, datesGiven))
          mark("render")
          const filter = o.tradingHours
            ? [`🕐 Filtered to trading hours only${o.includeExtended ? " (including extended hours)" : ""}`]
            : []
          return yield* print(
            `📊 ${symbol} (${o.timeframe}) - Cached Data`,
            `Total rows: ${fmtInt(total)} | Showing: ${fmtInt(bars.length)}`,
            `Date range: ${fmtTime(d.metadata.range_start_date)} to ${fmtTime(d.metadata.end_date)} (UTC)`,
            ...filter,
            table(
              [
                { header: "Date" },
                { header: "Open", align: "right" },
                { header: "High", align: "right" },
                { header: "Low", align: "right" },
                { header: "Close", align: "right" },
                { header: "Volume", align: "right" }
              ],
              bars.map(({ date, v }) => [fmtTime(date), ...v.slice(0, 4).map((x) => fmtFixed(x, 4)), fmtInt(v[4] ?? 0)])
            )
          )
        }
      }
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
