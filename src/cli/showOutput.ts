/**
 * What `ktrdr data show` prints, as a list of writes, without Effect: the command (data.ts) and its lane
 * (src/app/cliShow.ts, which answers the plain cases without loading Effect's runtime or @effect/cli) both print
 * through `showOutput` and `emit`, so their output cannot drift. The table is drawn by the caller's `drawTable`:
 * the lane passes one that draws only plain tables and declines the rest.
 */
import { writeSync } from "node:fs"
import type { OhlcvData } from "../contract/ohlcvAnswer.ts"
import type { Column } from "./plainTable.ts"
import { csv, fmtFixed, fmtInt, fmtTime } from "./textFormat.ts"

export type ShowFormat = "table" | "json" | "csv"

/** The options that shape the output (the request's are in showArgs.ts and data.ts). */
export interface ShowView {
  /** As typed on the command line (the server's key comes back in the metadata). */
  readonly symbol: string
  readonly timeframe: string
  readonly rows: number
  readonly format: ShowFormat
  readonly tradingHours: boolean
  readonly includeExtended: boolean
  /** --start or --end was given. */
  readonly datesGiven: boolean
}

/**
 * One write, in order: `log` as console.log prints it (the text and a newline), `out` raw on stdout, `err` one line
 * on stderr.
 */
export type Write =
  | { readonly to: "log"; readonly text: string }
  | { readonly to: "out"; readonly text: string }
  | { readonly to: "err"; readonly text: string }

export type DrawTable = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>
) => string | undefined

/** "No data" for a series or range (also `data range`'s). */
export const noData = (symbol: string, tf: string, datesGiven: boolean) => [
  `ℹ️  No cached data found for ${symbol} (${tf})`,
  datesGiven
    ? "Try adjusting the date range, or load it with 'ktrdr data load'"
    : `Try loading data first with 'ktrdr data load ${symbol} -t ${tf}'`
]

const CSV_HEADER = ["Date", "Open", "High", "Low", "Close", "Volume"]

const errs = (lines: ReadonlyArray<string>): Array<Write> => lines.map((text) => ({ to: "err", text }))
const json = (value: unknown): Write => ({ to: "log", text: JSON.stringify(value, null, 2) })

/** The answer for a series that is not stored at all (404 DATA-NotFound), in each format: as for an empty range. */
export const notStoredOutput = (v: ShowView): ReadonlyArray<Write> => {
  const symbol = v.symbol.toUpperCase()
  const lines = noData(symbol, v.timeframe, v.datesGiven)
  switch (v.format) {
    case "table":
      return [{ to: "log", text: lines.join("\n") }]
    case "json":
      return [
        ...errs(lines),
        json({ symbol, timeframe: v.timeframe, total_rows: 0, displayed_rows: 0, metadata: null, data: [] })
      ]
    case "csv":
      return [...errs(lines), { to: "out", text: csv(CSV_HEADER, []) }]
  }
}

/** The stored bars' output; undefined when `drawTable` does not draw the table. */
export const barsOutput = (v: ShowView, d: OhlcvData, drawTable: DrawTable): ReadonlyArray<Write> | undefined => {
  const symbol = d.metadata.symbol
  const total = d.metadata.total_count
  const from = Math.max(0, d.dates.length - v.rows)
  const bars = d.dates.slice(from).map((date, i) => ({ date, v: d.ohlcv[from + i] ?? [] }))
  const empty = total === 0 ? noData(symbol, v.timeframe, v.datesGiven) : []
  switch (v.format) {
    case "json":
      return [
        ...errs(empty),
        json({
          symbol,
          timeframe: v.timeframe,
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
      ]
    case "csv":
      return [
        ...errs(empty),
        { to: "out", text: csv(CSV_HEADER, bars.map(({ date, v }) => [fmtTime(date), ...v])) }
      ]
    case "table": {
      if (total === 0) return [{ to: "log", text: empty.join("\n") }]
      const table = drawTable(
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
      if (table === undefined) return undefined
      const filter = v.tradingHours
        ? [`🕐 Filtered to trading hours only${v.includeExtended ? " (including extended hours)" : ""}`]
        : []
      return [{
        to: "log",
        text: [
          `📊 ${symbol} (${v.timeframe}) - Cached Data`,
          `Total rows: ${fmtInt(total)} | Showing: ${fmtInt(bars.length)}`,
          `Date range: ${fmtTime(d.metadata.range_start_date)} to ${fmtTime(d.metadata.end_date)} (UTC)`,
          ...filter,
          table
        ].join("\n")
      }]
    }
  }
}

/** Prints the writes: console.log's bytes for `log` (as Effect's Console.log printed them), stderr line by line. */
export const emit = (writes: ReadonlyArray<Write>): void => {
  for (const w of writes) {
    if (w.to === "log") console.log(w.text)
    else if (w.to === "out") process.stdout.write(w.text)
    else process.stderr.write(`${w.text}\n`)
  }
}

/**
 * The same bytes as `emit`, written straight to the file descriptors: the lane's way. Making process.stdout (a
 * stream over the pipe or terminal) cost ~4 ms of a ~40 ms `data show`. Should a write fail (a closed pipe, a
 * non-blocking descriptor that is full), the rest goes through `emit`, as the full program writes it. Returns
 * whether it did (the streams may then hold output to flush before exiting).
 */
export const emitDirect = (writes: ReadonlyArray<Write>): boolean => {
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i]!
    const fd = w.to === "err" ? 2 : 1
    const bytes = Buffer.from(w.to === "out" ? w.text : `${w.text}\n`, "utf8")
    let done = 0
    try {
      while (done < bytes.length) done += writeSync(fd, bytes, done)
    } catch {
      if (done > 0) (fd === 1 ? process.stdout : process.stderr).write(bytes.subarray(done))
      emit(writes.slice(done > 0 ? i + 1 : i))
      return true
    }
  }
  return false
}
