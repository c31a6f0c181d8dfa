/**
 * readSeriesFile reads the next chunk while it parses this one, in two buffers that take turns: whatever the chunk
 * boundaries cut (a row, a CR LF, a quoted field with line breaks, a record longer than the room kept for it), it
 * must read what the whole-text parser reads from the same bytes.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { parseBarCsv } from "../../src/domain/barCsv.ts"
import { barsOf, extraRows } from "../../src/domain/barSeries.ts"
import { readSeriesFile } from "../../src/layers/barFiles.ts"

/** A deterministic file: `rows` rows, an extra column whose field is `note(i)`, line ends chosen per row. */
const fileText = (rows: number, note: (i: number) => string, finalLf: boolean) => {
  const lines = ["timestamp,open,high,low,close,volume,note"]
  for (let i = 0; i < rows; i++) {
    const t = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString().slice(0, 19)
    const price = (100 + (i % 97) / 100).toString()
    lines.push(`${t}${i % 3 === 0 ? "Z" : ""},${price},${price},${price},${price},${i % 5 === 0 ? -1 : i},${note(i)}`)
  }
  return lines.map((l, i) => l + (i % 11 === 0 ? "\r\n" : "\n")).join("").slice(0, finalLf ? undefined : -1)
}

describe("readSeriesFile", () => {
  const cases: ReadonlyArray<[string, number, (i: number) => string, boolean]> = [
    ["plain rows across many chunks, no final line feed", 30_000, (i) => String(i % 13), false],
    ["quoted fields with line breaks and quotes", 8_000, (i) => (i % 7 === 0 ? `"a,""b""\nc${i}"` : "x"), true],
    [
      "a 300 KB record in the middle (longer than a chunk and its lead room)",
      12_000,
      (i) => i === 6_000 ? `"${"y".repeat(300_000)}"` : i === 9_000 ? "z".repeat(70_000) : "",
      true
    ],
    ["a long record at the very start", 3_000, (i) => (i === 0 ? "w".repeat(200_000) : "v"), false],
    ["header only", 0, () => "", true]
  ]
  for (const [what, rows, note, finalLf] of cases) {
    it.effect(what, () =>
      Effect.gen(function*() {
        const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-barfiles-")))
        yield* Effect.addFinalizer(() => Effect.promise(() => rm(dir, { recursive: true, force: true })))
        const file = join(dir, "X_1m.csv")
        const text = fileText(rows, note, finalLf)
        yield* Effect.promise(() => writeFile(file, text))
        const { parsed } = yield* readSeriesFile(file, "X 1m")
        const whole = Either.getOrThrow(parseBarCsv(text))
        expect(parsed.length).toBe(rows)
        expect(barsOf(parsed)).toEqual(barsOf(whole))
        expect(extraRows(parsed)).toEqual(extraRows(whole))
        if (rows === 12_000) expect(extraRows(parsed)[6_000]![0]!.length).toBe(300_000)
      }).pipe(Effect.scoped))
  }
  it.effect("a bad row far into the file is named by its line, whichever chunk it is in", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-barfiles-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => rm(dir, { recursive: true, force: true })))
      const file = join(dir, "X_1m.csv")
      const lines = fileText(20_000, () => "n", true).split("\n")
      lines[15_000] = "2020-01-11T10:00:00Z,abc,1,1,1,1,n"
      yield* Effect.promise(() => writeFile(file, lines.join("\n")))
      const e = yield* Effect.flip(readSeriesFile(file, "X 1m"))
      expect(e._tag).toBe("CorruptData")
      expect(e._tag === "CorruptData" ? e.line : 0).toBe(15_001)
    }).pipe(Effect.scoped))
})
