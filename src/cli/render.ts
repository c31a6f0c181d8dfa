/**
 * Output helpers: aligned tables (plainTable.ts, else cli-table3), RFC 4180 CSV (csv-stringify), JSON, and the
 * number and time formats KTRDR's CLI printed (textFormat.ts). Tables carry no colour codes, so piped output and
 * the embedded/remote comparison are byte-for-byte stable.
 */
import Table from "cli-table3"
import { Console, Effect } from "effect"
import { type Column, isPlain, plainTable } from "./plainTable.ts"

export type { Align, Column } from "./plainTable.ts"
export { csv, fmtFixed, fmtInt, fmtTime } from "./textFormat.ts"

export const table = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  isPlain(columns, rows) ? plainTable(columns, rows) : cliTable(columns, rows)

/** cli-table3, for what plainTable does not draw; exported for the test that holds the two equal. */
export const cliTable = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
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

/** Exactly one JSON document on stdout. */
export const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

/** Lines on stdout, in one write (the same bytes as one console.log per line). */
export const print = (...lines: ReadonlyArray<string>) =>
  lines.length === 0 ? Effect.void : Console.log(lines.join("\n"))
/**
 * Straight to stderr, not through `Console.error`: the bin routes @effect/cli's own Console.error output
 * (usage failures) through its one-line rewrite (usage.ts), and ours must not be caught by it.
 */
export const printErr = (...lines: ReadonlyArray<string>) =>
  Effect.sync(() => {
    for (const l of lines) process.stderr.write(`${l}\n`)
  })

/** KTRDR's durations: `12.3s` under a minute, `4.5m` under an hour, else `1.2h`. */
export const fmtDuration = (seconds: number | null | undefined): string => {
  if (seconds === null || seconds === undefined) return "N/A"
  if (seconds < 60) return `${seconds.toFixed(1)}s`
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)}m`
  return `${(seconds / 3600).toFixed(1)}h`
}

export const truncate = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`)
