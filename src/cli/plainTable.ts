/**
 * Tables of single-line printable-ASCII cells, drawn without cli-table3 and without Effect: render.ts draws
 * these (and hands any other table to cli-table3), and the `data show` lane (src/app/cliShow.ts) draws only
 * these, through the same code.
 */
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
 * test compares the two).
 */
export const plainTable = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
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

/** Whether plainTable draws this table (every cell printable ASCII, every row as wide as the header). */
export const isPlain = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<string>>): boolean =>
  columns.length > 0 && columns.every((c) => PLAIN.test(c.header)) &&
  rows.every((r) => r.length === columns.length && r.every((c) => PLAIN.test(c)))

/** The table when plainTable draws it, else undefined (the caller then draws it another way, or not at all). */
export const plainTableOrUndefined = (
  columns: ReadonlyArray<Column>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): string | undefined => (isPlain(columns, rows) ? plainTable(columns, rows) : undefined)
