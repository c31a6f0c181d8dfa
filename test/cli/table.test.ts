/** The table drawer's own path for plain ASCII tables draws exactly what cli-table3 draws (render.ts). */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { type Column, cliTable, table } from "../../src/cli/render.ts"

const cell = fc.string({ unit: fc.constantFrom("a", "Z", "0", " ", ",", ".", "-", ":", "|", "~"), maxLength: 12 })
const tables = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    columns: fc.array(
      fc.record({ header: cell, align: fc.constantFrom<Column["align"]>("left", "right", undefined) }),
      { minLength: n, maxLength: n }
    ),
    rows: fc.array(fc.array(cell, { minLength: n, maxLength: n }), { maxLength: 6 })
  })
)

describe("table", () => {
  it("draws plain ASCII tables byte for byte as cli-table3 does", () => {
    fc.assert(
      fc.property(tables, ({ columns, rows }) => {
        const cols = columns.map((
          c
        ): Column => (c.align === undefined ? { header: c.header } : { header: c.header, align: c.align }))
        expect(table(cols, rows)).toBe(cliTable(cols, rows))
      }),
      { numRuns: 500 }
    )
  })

  it("leaves wide characters, newlines and ragged rows to cli-table3", () => {
    const columns = [{ header: "A" }, { header: "B", align: "right" as const }]
    for (const rows of [[["📊", "x"]], [["a\nb", "c"]], [["only one"]], [["ä", "1"]]]) {
      expect(table(columns, rows)).toBe(cliTable(columns, rows))
    }
  })
})
