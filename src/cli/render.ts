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

/** Printable ASCII only: one character is one column, so a cell's width is its length. */
const PLAIN = /^[\x20-\x7e]*$/

/**
 * What cli-table3 draws for a table of single-line ASCII cells with our style (one space of padding, no
 * colours, compact: a rule under the header only), written out: a `data show` of ten rows spent ~5 ms
 * of a ~150 ms start in cli-table3's layout engine. Byte-identical to cli-table3's output (a property
 * test compares the two); any other table (wide characters, ANSI codes, newlines, ragged rows) is drawn
 * by cli-table3 itself.
 */
const plainTable = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), c.header.length) + 2)
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => "─".repeat(w)).join(mid) + right
  const line = (cells: ReadonlyArray<string>) =>
    "│" + cells.map((c, i) => {
      const pad = " ".repeat(widths[i]! - 2 - c.length)
      return columns[i]!.align === "right" ? ` ${pad}${c} ` : ` ${c}${pad} `
    }).join("│") + "│"
  const out = [rule("┌", "┬", "┐"), line(columns.map((c) => c.header))]
  if (rows.length > 0) out.push(rule("├", "┼", "┤"))
  for (const r of rows) out.push(line(r))
  out.push(rule("└", "┴", "┘"))
  return out.join("\n")
}

const isPlain = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): boolean =>
  columns.length > 0 && columns.every((c) => PLAIN.test(c.header)) &&
  rows.every((r) => r.length === columns.length && r.every((c) => PLAIN.test(c)))

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

export const csv = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>
): string => stringify([header, ...rows], { record_delimiter: "\r\n" })

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

/** `1234567.8` → `1,234,568`. Not Intl.NumberFormat: its first use loads ICU data, ~12 ms of a ~300 ms start. */
export const fmtInt = (n: number): string => {
  const s = Math.round(n).toString()
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
}
/** A missing value (a null price, KTRDR's NaN) prints as `NaN`, as KTRDR's pandas table did. */
export const fmtFixed = (n: number | null, digits: number): string => (n === null ? "NaN" : n.toFixed(digits))

/**
 * `2025-05-22T08:00:00Z`, `…+00:00` or the API's naive `2025-05-22T08:00:00` (UTC) → `2025-05-22 08:00:00` (UTC,
 * as KTRDR printed dates). A naive time is read as UTC, not as the machine's local time.
 */
export const fmtTime = (iso: string | null | undefined): string => {
  if (iso === null || iso === undefined || iso === "") return "N/A"
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) || !iso.includes("T") ? iso : `${iso}Z`)
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
