/**
 * The command lines the `data show` lane (src/app/cliShow.ts) answers, read without @effect/cli: the arguments after
 * `data show`, and the environment `data show` reads (KTRDR_API_URL, KTRDR_API_TOKEN). Only a subset whose meaning
 * is certain is accepted — one SYMBOL; `-t/--timeframe`, `-r/--rows`, `--start`, `--end`, `-f/--format`, `--url`
 * as `--name value` (long names also `--name=value`); `--trading-hours` and `--include-extended` as bare flags;
 * every option at most once; every value valid by the same rules as the full program's (argRules.ts, the
 * timeframe table). Anything else is declined with a reason, and the full program then runs as before: it alone
 * prints help, usage errors and their exit codes.
 */
import { TIMEFRAME_IDS } from "../domain/timeframeIds.ts"
import { DATE_PATTERN, dateMs, DEFAULT_URL, isCalendarDate, SYMBOL_PATTERN } from "./argRules.ts"
import type { ShowFormat, ShowView } from "./showOutput.ts"

export interface ShowRequest {
  readonly view: ShowView
  /** `GET …/api/v1/data/{symbol}/{timeframe}?…`, built as barsRequest.ts builds it. */
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
}

export type ShowArgs =
  | { readonly _tag: "Lane"; readonly request: ShowRequest }
  | { readonly _tag: "Decline"; readonly reason: string }

type Name = "timeframe" | "rows" | "start" | "end" | "format" | "url" | "trading-hours" | "include-extended"

const VALUED: Readonly<Record<string, Name>> = {
  "--timeframe": "timeframe",
  "-t": "timeframe",
  "--rows": "rows",
  "-r": "rows",
  "--start": "start",
  "--end": "end",
  "--format": "format",
  "-f": "format",
  "--url": "url"
}
const FLAGS: Readonly<Record<string, Name>> = {
  "--trading-hours": "trading-hours",
  "--include-extended": "include-extended"
}
/**
 * What @effect/cli reads as a boolean flag's value when it follows the flag (`--trading-hours yes`), in any case:
 * such a line is declined rather than guessed.
 */
const BOOL_WORDS = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])
const TIMEFRAMES: ReadonlySet<string> = new Set(TIMEFRAME_IDS)
const FORMATS: ReadonlySet<string> = new Set(["table", "json", "csv"])
const ROWS = /^[1-9]\d{0,5}$/

const decline = (reason: string): ShowArgs => ({ _tag: "Decline", reason })

/** `args`: the command line after `data show`; `env`: the process's environment. */
export const parseShowArgs = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): ShowArgs => {
  const given = new Map<Name, string | true>()
  const positional: Array<string> = []
  for (let k = 0; k < args.length; k++) {
    const token = args[k]!
    // @effect/cli trims tokens in places; a token with surrounding space is left to it.
    if (token !== token.trim()) return decline(`space around '${token}'`)
    if (!token.startsWith("-")) {
      positional.push(token)
      continue
    }
    const eq = token.indexOf("=")
    const [flag, inline] = token.startsWith("--") && eq > 0 ? [token.slice(0, eq), token.slice(eq + 1)] : [token]
    const name = VALUED[flag] ?? FLAGS[flag]
    if (name === undefined) return decline(`option ${flag}`)
    if (given.has(name)) return decline(`${flag} given twice`)
    if (FLAGS[flag] !== undefined) {
      if (inline !== undefined) return decline(`${token}`)
      const next = args[k + 1]
      if (next !== undefined && BOOL_WORDS.has(next.toLowerCase())) return decline(`${flag} ${next}`)
      given.set(name, true)
      continue
    }
    let value: string
    if (inline !== undefined) {
      value = inline
    } else {
      const next = args[k + 1]
      if (next === undefined) return decline(`${flag} without a value`)
      value = next
      k++
    }
    if (value === "" || value.startsWith("-") || value !== value.trim()) return decline(`${flag} '${value}'`)
    given.set(name, value)
  }
  if (positional.length !== 1) return decline(`${positional.length} arguments`)
  const symbol = positional[0]!
  if (!SYMBOL_PATTERN.test(symbol)) return decline(`symbol '${symbol}'`)
  const text = (n: Name): string | undefined => {
    const v = given.get(n)
    return typeof v === "string" ? v : undefined
  }
  const timeframe = text("timeframe") ?? "1d"
  if (!TIMEFRAMES.has(timeframe)) return decline(`timeframe '${timeframe}'`)
  const rowsText = text("rows") ?? "10"
  if (!ROWS.test(rowsText) || Number(rowsText) > 100_000) return decline(`rows '${rowsText}'`)
  const rows = Number(rowsText)
  const start = text("start")
  const end = text("end")
  for (const d of [start, end]) {
    if (d !== undefined && !(DATE_PATTERN.test(d) && isCalendarDate(d))) return decline(`date '${d}'`)
  }
  if (start !== undefined && end !== undefined && dateMs(start) > dateMs(end)) return decline("start after end")
  const format = text("format") ?? "table"
  if (!FORMATS.has(format)) return decline(`format '${format}'`)
  const base = text("url") ?? env["KTRDR_API_URL"] ?? DEFAULT_URL
  let server: URL
  try {
    server = new URL(base)
  } catch {
    return decline(`url '${base}'`)
  }
  // https (a TLS agent), and credentials in the URL, are left to the full program.
  if (server.protocol !== "http:" || server.username !== "" || server.password !== "") {
    return decline(`url '${base}'`)
  }
  let url: URL
  try {
    url = new URL(`${base.replace(/\/+$/, "")}/api/v1/data/${symbol}/${timeframe}`)
  } catch {
    return decline(`url '${base}'`)
  }
  if (url.protocol !== "http:") return decline(`url '${base}'`)
  const tradingHours = given.has("trading-hours")
  const includeExtended = given.has("include-extended")
  // The endpoint's query, encoded as its schema encodes it (barsRequest.ts).
  if (start !== undefined) url.searchParams.append("start_date", start)
  if (end !== undefined) url.searchParams.append("end_date", end)
  if (tradingHours) url.searchParams.append("trading_hours_only", "true")
  if (includeExtended) url.searchParams.append("include_extended", "true")
  url.searchParams.append("limit", String(rows))
  const token = env["KTRDR_API_TOKEN"]
  return {
    _tag: "Lane",
    request: {
      view: {
        symbol,
        timeframe,
        rows,
        format: format as ShowFormat,
        tradingHours,
        includeExtended,
        datesGiven: start !== undefined || end !== undefined
      },
      url,
      headers: token !== undefined && token !== "" ? { authorization: `Bearer ${token}` } : {}
    }
  }
}
