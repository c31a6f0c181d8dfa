/**
 * Arguments and options shared by the command groups. Everything the server would refuse for its shape
 * is refused here, at parse time, so a typo is a usage error (exit 2, with the command's help) and costs
 * no request. The server still validates everything (symbols against IB, dates against the calendar).
 */
import { Args, Options } from "@effect/cli"
import { Config, Effect, Option, Schema } from "effect"
import { TIMEFRAME_IDS } from "../domain/timeframeIds.ts"
import { DATE_PATTERN, dateMs, DEFAULT_URL, isCalendarDate, SYMBOL_PATTERN } from "./argRules.ts"
import { UsageError } from "./errors.ts"

/** Tickers as KTRDR's CLI accepted them (`AAPL`, `EUR.USD`, `BRK-B`), 1–32 characters. */
export const SymbolSchema = Schema.String.pipe(
  Schema.pattern(SYMBOL_PATTERN, {
    message: (issue) =>
      `SYMBOL '${String(issue.actual)}' is not a symbol: use 1–32 letters, digits, '.', '-' or '_' (e.g. AAPL, EUR.USD)`
  })
)

export const symbolArg = Args.text({ name: "SYMBOL" }).pipe(
  Args.withSchema(SymbolSchema),
  Args.withDescription("ticker, e.g. AAPL, EUR.USD, ES")
)

/** Every timeframe the API serves, 1w and 1M included (KTRDR's CLI refused those two). */
export const timeframeOption = Options.choice("timeframe", TIMEFRAME_IDS).pipe(
  Options.withAlias("t"),
  Options.withDefault("1d" as const),
  Options.withDescription("bar size  [default: 1d]")
)

/** `YYYY-MM-DD` (00:00 UTC) or ISO 8601 with a time; a time without zone is UTC (as the API reads it). */
export const DateSchema = Schema.String.pipe(
  Schema.pattern(DATE_PATTERN, {
    message: (issue) => `'${String(issue.actual)}' is not a date: use YYYY-MM-DD (UTC) or ISO 8601, e.g. 2024-01-31`
  }),
  Schema.filter((s) =>
    isCalendarDate(s) || `'${s}' is not a calendar date: use YYYY-MM-DD (UTC) or ISO 8601, e.g. 2024-01-31`
  )
)

const dateOption = (name: string, what: string) =>
  Options.text(name).pipe(Options.withSchema(DateSchema), Options.optional, Options.withDescription(what))

export const startOption = dateOption("start", "start date, YYYY-MM-DD (UTC) or ISO 8601")
export const endOption = dateOption("end", "end date, YYYY-MM-DD (UTC) or ISO 8601")

/** --start after --end is a usage error, found before any request. */
export const checkRange = (start: Option.Option<string>, end: Option.Option<string>) => {
  return Option.isSome(start) && Option.isSome(end) && dateMs(start.value) > dateMs(end.value)
    ? Effect.fail(new UsageError({ message: `--start (${start.value}) is after --end (${end.value})` }))
    : Effect.void
}

export const formatOption = <const F extends ReadonlyArray<"table" | "json" | "csv">>(formats: F) =>
  Options.choice("format", formats).pipe(
    Options.withAlias("f"),
    Options.withDefault(formats[0]!),
    Options.withDescription(
      `output: ${formats.join(", ")} (${formats.filter((f) => f !== "table").join(" and ")} ${
        formats.length > 2 ? "print" : "prints"
      } nothing else on stdout)  [default: ${formats[0]}]`
    )
  )

const UrlSchema = Schema.String.pipe(
  Schema.filter((s) => {
    try {
      const u = new URL(s)
      return (u.protocol === "http:" || u.protocol === "https:") ||
        `'${s}' is not an http(s) URL: use http://host:port, e.g. http://127.0.0.1:8000`
    } catch {
      return `'${s}' is not a URL: use http://host:port, e.g. http://127.0.0.1:8000`
    }
  })
)

export { DEFAULT_URL } from "./argRules.ts"

/**
 * How a command reaches the core: a server (`--url`, else KTRDR_API_URL, else 127.0.0.1:8000) or the
 * whole graph in this process (`--embedded`). On every leaf command, so they work after the arguments.
 */
export const connectionOptions = {
  url: Options.text("url").pipe(
    Options.withFallbackConfig(Config.string("KTRDR_API_URL")),
    Options.withDefault(DEFAULT_URL),
    Options.withSchema(UrlSchema),
    Options.withDescription(`ktrdr server  [default: $KTRDR_API_URL, else ${DEFAULT_URL}]`)
  ),
  embedded: Options.boolean("embedded").pipe(
    Options.withDescription(
      "run the core in this process (own IB session, client id KTRDR_CLI_CLIENT_ID, default 11) " +
        "instead of asking a server"
    )
  ),
  verbose: Options.boolean("verbose").pipe(
    Options.withAlias("v"),
    Options.withDescription("log what happens to stderr")
  )
}

export interface ConnectionOptions {
  readonly url: string
  readonly embedded: boolean
  readonly verbose: boolean
}
