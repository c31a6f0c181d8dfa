/**
 * What a symbol and a date on the command line must look like, and the default server, without Effect: options.ts
 * builds its options on these, and the `data show` lane (showArgs.ts) accepts only what they accept, so the two
 * cannot drift.
 */

/** The server a command asks when neither --url nor KTRDR_API_URL names one. */
export const DEFAULT_URL = "http://127.0.0.1:8000"

/** Tickers as KTRDR's CLI accepted them (`AAPL`, `EUR.USD`, `BRK-B`), 1–32 characters. */
export const SYMBOL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.\-_]{0,31}$/

/** `YYYY-MM-DD` (00:00 UTC) or ISO 8601 with a time; a time without zone is UTC (as the API reads it). */
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

/** The day exists (Date.parse takes 2024-02-30 as March 1st) and the time parses. */
export const isCalendarDate = (s: string): boolean => {
  const [y, m, d] = [Number(s.slice(0, 4)), Number(s.slice(5, 7)), Number(s.slice(8, 10))]
  const day = new Date(Date.UTC(y, m - 1, d))
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d &&
    !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s))
}

/** A date the rules above accept, as epoch ms (`YYYY-MM-DD` is midnight UTC): what --start ≤ --end compares. */
export const dateMs = (s: string): number => Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)
