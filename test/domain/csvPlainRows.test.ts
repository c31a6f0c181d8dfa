import { Either } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BarCsvParser } from "../../src/domain/barCsv.ts"
import { barsOf } from "../../src/domain/barSeries.ts"

/** One file's text read twice, with the plain-row loop and through the general path only. */
const both = (text: string, chunk: number) => {
  const bytes = new TextEncoder().encode(text)
  const run = (plain: boolean) => {
    const p = new BarCsvParser(4, plain)
    let buf = new Uint8Array(0)
    // fed in pieces, as the store streams a file: a row may straddle two feeds
    for (let at = 0; at < bytes.length; at += chunk) {
      const next = new Uint8Array(buf.length + Math.min(chunk, bytes.length - at))
      next.set(buf)
      next.set(bytes.subarray(at, at + chunk), buf.length)
      const used = p.feed(next, next.length)
      if (typeof used !== "number") return Either.left(used)
      buf = next.slice(used)
    }
    return p.finish(buf.length)
  }
  return [run(true), run(false)] as const
}

const view = (r: ReturnType<typeof both>[0]) =>
  Either.match(r, {
    onLeft: (e) => ({ error: e }),
    onRight: (s) => ({ bars: barsOf(s), outOfOrder: s.outOfOrder, duplicates: s.duplicates, missing: s.missing })
  })

const pad = (n: number, w: number) => String(n).padStart(w, "0")
/** Times in the plain shape and around it: bad dates, 24:00, fractions, offsets, lower case, date only. */
const arbTime = fc.oneof(
  fc.tuple(
    fc.integer({ min: 1998, max: 2001 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 24 }),
    fc.integer({ min: 0, max: 60 }),
    fc.integer({ min: 0, max: 60 }),
    fc.constantFrom("T", " ", "t", "x"),
    fc.constantFrom("Z", "", "z", "+00:00", "-05:00", ".5Z", ".250")
  ).map(([y, mo, d, h, mi, s, sep, tail]) =>
    `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${tail}`
  ),
  fc.constantFrom("2000-01-03", "2000-1-03T00:00:00Z", "20000-01-01T00:00:00Z", "", "\"2000-01-03T00:00:00Z\"")
)
const arbNumber = fc.oneof(
  fc.integer({ min: -5, max: 100_000 }).map(String),
  fc.integer({ min: -100_000, max: 100_000 }).map((k) => String(k / 100)),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.constantFrom("", "nan", "1e3", "+5", "-0", ".5", "5.", "-1", "-1.0", "1234567890123456", "123456789012345", "0x1")
)
const arbRow = fc.tuple(arbTime, fc.array(arbNumber, { minLength: 5, maxLength: 5 }), fc.constantFrom("\n", "\r\n"))
  .map(([t, xs, eol]) => `${t},${xs.join(",")}${eol}`)
/** Mostly plain rows, so long runs of the loop are met. */
const arbPlainRow = fc.tuple(
  fc.integer({ min: 0, max: 4000 }),
  fc.array(fc.integer({ min: 0, max: 20_000 }).map((k) => String(k / 100)), { minLength: 4, maxLength: 4 }),
  fc.integer({ min: -1, max: 1e9 })
).map(([min, ps, v]) =>
  `${new Date(Date.UTC(2000, 0, 1) + min * 60_000).toISOString().slice(0, 19)}Z,${ps.join(",")},${v}\n`
)

describe("the plain-row loop", () => {
  it("reads every file exactly as the general path does: values, order counts, errors and their lines", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof({ weight: 4, arbitrary: arbPlainRow }, { weight: 1, arbitrary: arbRow }, fc.constant("\n")), {
          maxLength: 60
        }),
        fc.integer({ min: 7, max: 400 }),
        (rows, chunk) => {
          const [fast, general] = both(`timestamp,open,high,low,close,volume\n${rows.join("")}`, chunk)
          expect(view(fast)).toEqual(view(general))
        }
      ),
      { numRuns: 3_000 }
    )
  })
  it("is really taken: a plain file reads with far fewer general-path rows (it fails if the loop never runs)", () => {
    const text = "timestamp,open,high,low,close,volume\n2000-01-03T00:00:00Z,1.5,2,1,1.75,-1\n" +
      "2000-01-03 00:01:00,1.5,2,1,1.75,10\n"
    const p = new BarCsvParser(4, true) as unknown as { record: () => boolean }
    let generalRows = 0
    const record = p.record.bind(p)
    p.record = () => {
      generalRows++
      return record()
    }
    const parser = p as unknown as BarCsvParser
    const bytes = new TextEncoder().encode(text)
    parser.feed(bytes, bytes.length)
    const s = Either.getOrThrow(parser.finish())
    expect(barsOf(s).map((b) => [b.time, b.volume])).toEqual([[Date.UTC(2000, 0, 3), null], [
      Date.UTC(2000, 0, 3, 0, 1),
      10
    ]])
    expect(generalRows).toBe(1) // the header only
  })
})
