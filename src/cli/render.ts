/**
 * Output helpers: aligned tables (cli-table3), RFC 4180 CSV (csv-stringify), JSON, and the number and
 * time formats KTRDR's CLI printed. Tables carry no colour codes, so piped output and the embedded/remote
 * comparison are byte-for-byte stable.
 */
import Table from "cli-table3"
import { stringify } from "csv-stringify/sync"
import { Console, Effect } from "effect"

export type Align = "left" | "right"

export interface Column {
  readonly header: string
  readonly align?: Align
}

export const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const t = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? "left"),
    style: { head: [], border: [], compact: true }
  })
  for (const r of rows) t.push([...r])
  return t.toString()
}

/** A two-column Property/Value grid. */
export const grid = (
  rows: ReadonlyArray<readonly [string, string]>,
  headers: readonly [string, string] = ["Property", "Value"]
): string => table([{ header: headers[0] }, { header: headers[1] }], rows)

export const csv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string | number>>): string =>
  stringify([header, ...rows], { record_delimiter: "\r\n" })

/** Exactly one JSON document on stdout. */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

export const print = (...lines: ReadonlyArray<string>) =>
  Effect.forEach(lines, (l) => Console.log(l), { discard: true })
/**
 * Straight to stderr, not through `Console.error`: the bin routes @effect/cli's own Console.error output
 * (usage failures) through its one-line rewrite (usage.ts), and ours must not be caught by it.
 */
export const printErr = (...lines: ReadonlyArray<string>) =>
  Effect.sync(() => {
    for (const l of lines) process.stderr.write(`${l}\n`)
  })

/** `1234567.8` → `1,234,568`. Not Intl.NumberFormat: its first use loads ICU data, ~12 ms of a ~300 ms start. */
export const fmtInt = (n: number): string => {
  const s = Math.round(n).toString()
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
}
export const fmtFixed = (n: number, digits: number): string => n.toFixed(digits)

/** `2025-05-22T08:00:00Z` → `2025-05-22 08:00:00` (UTC, as KTRDR printed dates). */
export const fmtTime = (iso: string | null | undefined): string => {
  if (iso === null || iso === undefined || iso === "") return "N/A"
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace("T", " ")
}

/** KTRDR's durations: `12.3s` under a minute, `4.5m` under an hour, else `1.2h`. */
export const fmtDuration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return "N/A"
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)}m`
  return `${(seconds / 3600).toFixed(1)}h`
}

export const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)
