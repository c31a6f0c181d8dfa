import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import type { Bar } from "../../src/domain/Bar.ts"
import { BarCsvParser, parseBarCsv, type ParsedBarCsv } from "../../src/domain/barCsv.ts"
import { type BarSeries, barsOf, extraRows, seriesFromBars } from "../../src/domain/barSeries.ts"
import { formatBarCsv, RowEncoder } from "../../src/domain/barCsvFormat.ts"
import { formatUtc, MAX_TIME, MIN_TIME } from "../../src/domain/utcDays.ts"

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/ktrdr/${name}`, import.meta.url)))
const ok = (input: string | Uint8Array): ParsedBarCsv => {
  const r = parseBarCsv(input)
  if (Either.isLeft(r)) throw new Error(`line ${r.left.line}: ${r.left.message}`)
  return r.right
}
const problem = (input: string) => {
  const r = parseBarCsv(input)
  if (Either.isRight(r)) throw new Error("expected a problem")
  return r.left
}
const iso = (t: number) => new Date(t).toISOString()
const bar = (time: number, close: number, volume: number | null = 1): Bar => ({
  time,
  open: close,
  high: close,
  low: close,
  close,
  volume,
  wap: null,
  count: null
})

describe("barCsv: KTRDR fixture files", () => {
  // rows, first and last timestamps as `wc -l`, `head` and `tail` show them
  const cases = [
    ["AAPL_1d.csv", "date", 50, "2023-01-01T00:00:00.000Z", "2023-02-19T00:00:00.000Z"],
    ["AAPL_1h.csv", "timestamp", 153, "2025-05-22T08:00:00.000Z", "2025-06-06T23:00:00.000Z"],
    ["AAPL_5m.csv", "timestamp", 1536, "2025-05-27T08:00:00.000Z", "2025-06-06T23:55:00.000Z"],
    ["DEMO_1d.csv", "date", 120, "2023-01-01T00:00:00.000Z", "2023-04-30T00:00:00.000Z"],
    ["EURUSD_1h.csv", "timestamp", 2591, "2025-01-02T00:00:00.000Z", "2025-06-06T20:00:00.000Z"],
    ["MSFT_1h.csv", "", 20758, "2013-12-31T00:30:00.000Z", "2025-06-06T23:00:00.000Z"],
    ["MSFT_1m.csv", "timestamp", 5746, "2025-05-30T08:02:00.000Z", "2025-06-06T23:59:00.000Z"]
  ] as const
  for (const [file, header, rows, first, last] of cases) {
    it(`${file}: ${rows} rows, ${first} … ${last}`, () => {
      const s = ok(fixture(file))
      expect(s.indexHeader).toBe(header)
      expect(barsOf(s).length).toBe(rows)
      expect(iso(barsOf(s)[0]!.time)).toBe(first)
      expect(iso(barsOf(s)[rows - 1]!.time)).toBe(last)
      expect(s.extraColumns).toEqual([])
      expect(s.outOfOrder + s.duplicates).toBe(0)
    })
  }
  it("reads values exactly, forex volume 0.0 as 0 (not absent)", () => {
    expect(barsOf(ok(fixture("DEMO_1d.csv")))[0]).toEqual({
      time: Date.UTC(2023, 0, 1),
      open: 133.4370681309032,
      high: 133.4370681309032,
      low: 94.23269143258108,
      close: 98.88529714735652,
      volume: 2717.381977897272,
      wap: null,
      count: null
    })
    const fx = ok(fixture("EURUSD_1h.csv"))
    expect(barsOf(fx)[0]).toMatchObject({ open: 1.03506, close: 1.0352, volume: 0 })
    expect(barsOf(ok(fixture("AAPL_1d.csv")))[0]!.volume).toBe(12715)
  })
  it("DEMO_1d's empty closes are pandas NaN: read as NaN, counted, written back empty", () => {
    const s = ok(fixture("DEMO_1d.csv"))
    expect(s.missing).toBe(5)
    expect(barsOf(s)[10]!.close).toBeNaN() // line 12, 2023-01-11
    const again = ok(formatBarCsv(s))
    expect(again.missing).toBe(5)
    expect(barsOf(again)).toEqual(barsOf(s))
  })
})

describe("barCsv: timestamps", () => {
  const cases: ReadonlyArray<[string, string]> = [
    ["2024-03-05", "2024-03-05T00:00:00.000Z"],
    ["2024-03-05 14:30:00", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05T14:30:00", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05T14:30:00Z", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05 14:30:00+00:00", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05 09:30:00-05:00", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05 20:00:00+05:30", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05T16:30:00+0200", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05 14:30", "2024-03-05T14:30:00.000Z"],
    ["2024-03-05 14:30:00.123456+00:00", "2024-03-05T14:30:00.123Z"],
    ["2024-03-05T14:30:00.5Z", "2024-03-05T14:30:00.500Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["1969-12-31 23:59:59", "1969-12-31T23:59:59.000Z"],
    ["2024-01-01 00:30:00+01:00", "2023-12-31T23:30:00.000Z"]
  ]
  for (const [text, want] of cases) {
    it(`${text} → ${want}`, () =>
      expect(iso(barsOf(ok(`date,open,high,low,close\n${text},1,1,1,1\n`))[0]!.time)).toBe(want))
  }
  for (
    const bad of [
      "2023-02-29",
      "2024-13-01",
      "2024-00-10",
      "2024-01-32",
      "2024-01-01 24:00:00",
      "2024-01-01 10:60",
      "2024/01/01",
      "20240101",
      "2024-01-01 10:00:00 UTC",
      "2024-01-01T",
      "",
      "2024-01-01 10:00:00+25:00"
    ]
  ) {
    it(`rejects ${JSON.stringify(bad)} naming line 3`, () => {
      const p = problem(`timestamp,open,high,low,close\n2024-01-01,1,1,1,1\n${bad},1,1,1,1\n`)
      expect(p.line).toBe(3)
      expect(p.message).toMatch(/timestamp/)
    })
  }
})

describe("barCsv: columns and values", () => {
  it("matches columns by name, case-insensitively, in any order; any index header", () => {
    const s = ok("When,Close,VOLUME,Low,High,Open\n2024-01-02,4,5,3,2,1\n")
    expect(s.indexHeader).toBe("When")
    expect(barsOf(s)[0]).toMatchObject({ open: 1, high: 2, low: 3, close: 4, volume: 5 })
  })
  it("volume: -1 and empty are absent (null); a missing volume column too", () => {
    const s = ok(
      "t,open,high,low,close,volume\n2024-01-01,1,1,1,1,-1\n2024-01-02,1,1,1,1,\n" +
        "2024-01-03,1,1,1,1,-1.0\n2024-01-04,1,1,1,1,0\n"
    )
    expect(barsOf(s).map((b) => b.volume)).toEqual([null, null, null, 0])
    expect(barsOf(ok("t,open,high,low,close\n2024-01-01,1,1,1,1\n"))[0]!.volume).toBeNull()
  })
  it("numbers: signs, exponents, long mantissas read exactly as Number() does", () => {
    const vals = [
      "-1.5",
      "+2",
      "1e3",
      "1.5E-3",
      ".5",
      "5.",
      "0.1",
      "133.4370681309032",
      "12345678901234567890",
      "0.000000000000000000000001"
    ]
    const s = ok(`t,open,high,low,close\n${vals.map((v) => `2024-01-01,${v},1,1,1`).join("\n")}\n`)
    expect(barsOf(s).map((b) => b.open)).toEqual(vals.map(Number))
  })
  it("keeps extra columns verbatim, RFC 4180 quotes included (commas, quotes, line breaks, UTF-8)", () => {
    const text = "timestamp,open,high,low,close,volume,note,\"we,ird\"\r\n" +
      "2024-01-02T00:00:00Z,1,2,0.5,1.5,10,\"a,\"\"b\"\"\r\nc\",é€\r\n" +
      "2024-01-03T00:00:00Z,1,2,0.5,1.5,10,,\"\"\r\n"
    const s = ok(text)
    expect(s.extraColumns).toEqual(["note", "we,ird"])
    expect(extraRows(s)).toEqual([["a,\"b\"\r\nc", "é€"], ["", ""]])
    expect(extraRows(ok(formatBarCsv(s)))).toEqual(extraRows(s))
  })
  it("quoted values in price and time columns are read too", () => {
    expect(barsOf(ok("t,open,high,low,close\n\"2024-01-02 10:00:00+00:00\",\"1.5\",2,1,\"1.25\"\n"))[0]).toMatchObject({
      time: Date.UTC(2024, 0, 2, 10),
      open: 1.5,
      close: 1.25
    })
  })
  it("BOM, CRLF, blank lines and a missing final newline are fine", () => {
    const s = ok("\uFEFFdate,open,high,low,close,volume\r\n\r\n2024-01-01,1,1,1,1,1\r\n\n2024-01-02,2,2,2,2,2")
    expect(s.indexHeader).toBe("date")
    expect(barsOf(s).map((b) => b.close)).toEqual([1, 2])
  })
  it("reports disorder as data and keeps file order", () => {
    const s = ok(
      "t,open,high,low,close\n2024-01-03,3,3,3,3\n2024-01-01,1,1,1,1\n2024-01-01,2,2,2,2\n2024-01-04,4,4,4,4\n"
    )
    expect(barsOf(s).map((b) => b.close)).toEqual([3, 1, 2, 4])
    expect({ outOfOrder: s.outOfOrder, duplicates: s.duplicates }).toEqual({ outOfOrder: 1, duplicates: 1 })
  })
})

describe("barCsv: problems name their line", () => {
  const head = "date,open,high,low,close,volume\n2024-01-01,1,2,3,4,5\n2024-01-02,1,2,3,4,5\n2024-01-03,1,2,3,4,5\n"
  const cases: ReadonlyArray<[string, string, number, RegExp]> = [
    ["a non-number price", `${head}2024-01-02,abc,1,1,1,1\n`, 5, /open: not a number: "abc"/],
    ["Infinity", `${head}2024-01-04,inf,1,1,1,1\n`, 5, /open: not a number/],
    ["a non-number volume", `${head}2024-01-04,1,1,1,1,lots\n`, 5, /volume: not a number/],
    ["too few fields", `${head}2024-01-04,1,1,1\n`, 5, /expected 6 fields, found 4/],
    ["too many fields", `${head}2024-01-04,1,1,1,1,1,1\n`, 5, /too many fields/],
    ["an unterminated quote", `${head}"2024-01-04,1,1,1,1,1\n`, 5, /unterminated quoted field/],
    ["text after a closing quote", `${head}"2024-01-04"x,1,1,1,1,1\n`, 5, /after a closing quote/],
    ["a missing column", "date,open,high,close\n2024-01-01,1,1,1\n", 1, /missing column\(s\) low/],
    ["a duplicate column", "date,open,high,low,close,Close\n", 1, /duplicate column "Close"/],
    ["an empty file", "", 1, /no header/]
  ]
  for (const [what, text, line, message] of cases) {
    it(`${what} → line ${line}`, () => {
      const p = problem(text)
      expect(p.line).toBe(line)
      expect(p.message).toMatch(message)
    })
  }
  it("counts the lines inside quoted fields", () => {
    const p = problem("t,open,high,low,close,note\n2024-01-01,1,1,1,1,\"two\nlines\"\n2024-01-02,x,1,1,1,\n")
    expect(p.line).toBe(4)
  })
})

const arbBar = fc.record({
  time: fc.integer({ min: MIN_TIME, max: MAX_TIME }),
  open: fc.double({ noDefaultInfinity: true, noNaN: true }),
  high: fc.oneof(fc.double({ noDefaultInfinity: true }), fc.integer({ min: 0, max: 100000 }).map((c) => c / 100)),
  low: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  close: fc.integer({ min: 1, max: 9_999_999 }).map((c) => c / 100_000),
  volume: fc.option(fc.oneof(fc.integer({ min: -5, max: 2 ** 40 }), fc.double({ min: 0, max: 1e12, noNaN: true })), {
    nil: null
  }),
  wap: fc.constant(null),
  count: fc.constant(null)
}).map((b): Bar => ({
  ...b,
  open: b.open + 0,
  high: b.high + 0,
  low: b.low + 0,
  volume: b.volume === -1 ? null : b.volume
})) // -0 is written as String(-0) = "0"

const arbSeries: fc.Arbitrary<BarSeries> = fc.integer({ min: 0, max: 3 }).chain((k) =>
  fc.record({
    bars: fc.array(arbBar, { maxLength: 40 }),
    extraColumns: fc.uniqueArray(
      fc.string({ minLength: 1 }).filter((s) => !/^\s*(open|high|low|close|volume)\s*$/i.test(s) && s.trim() === s),
      {
        minLength: k,
        maxLength: k,
        selector: (s) => s.toLowerCase()
      }
    )
  }).chain(({ bars, extraColumns }) =>
    fc.array(
      fc.array(fc.string({ unit: "binary" }), { minLength: extraColumns.length, maxLength: extraColumns.length }),
      { minLength: bars.length, maxLength: bars.length }
    )
      .map((extras) => seriesFromBars(bars, extraColumns, extras))
  )
)

describe("barCsv: format", () => {
  it("writes KTRDR's current layout: timestamp header, …Z times, -1 for absent volume, quoted extras", () => {
    const s: BarSeries = seriesFromBars(
      [bar(Date.UTC(2024, 0, 2, 3, 4, 5), 1.25, null), {
        ...bar(Date.UTC(2024, 0, 2, 3, 4, 6, 7), 202.02, 15812),
        open: NaN
      }],
      ["x,y"],
      [["q\"z"], ["plain"]]
    )
    expect(formatBarCsv(s)).toBe(
      "timestamp,open,high,low,close,volume,\"x,y\"\n" +
        "2024-01-02T03:04:05Z,1.25,1.25,1.25,1.25,-1,\"q\"\"z\"\n" +
        "2024-01-02T03:04:06.007Z,,202.02,202.02,202.02,15812,plain\n"
    )
  })
  it("writes every number exactly as String() does", () => {
    const enc = new RowEncoder(), dec = new TextDecoder()
    const text = (x: number) => dec.decode(enc.encode(seriesFromBars([bar(0, x)]), 0, 1)).split(",")[1]
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true }),
          fc.integer().map((k) => k / 100),
          fc.integer().map((k) => k / 1e5)
        ),
        (x) => text(x) === String(x)
      ),
      { numRuns: 20_000 }
    )
  })
  it("format → parse is the identity on random series (absent volume stays absent, extras survive)", () => {
    fc.assert(
      fc.property(arbSeries, (s) => {
        const back = ok(formatBarCsv(s))
        expect(barsOf(back)).toEqual(barsOf(s))
        expect(back.extraColumns).toEqual(s.extraColumns)
        expect(extraRows(back)).toEqual(extraRows(s))
      }),
      { numRuns: 300 }
    )
  })
  it("formats times without Date: matches toISOString for random instants", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_TIME, max: MAX_TIME }), (t) => {
        const want = new Date(t).toISOString().replace(/^\+?0*(\d{4})/, "$1").replace(".000Z", "Z")
        expect(formatUtc(t)).toBe(want)
      }),
      { numRuns: 5000 }
    )
  })
})

describe("barCsv: incremental parsing", () => {
  it("any split of the bytes into chunks gives the same result as one piece", () => {
    const text = "\uFEFFtimestamp,open,high,low,close,volume,note\r\n" +
      "2024-01-02T00:00:00Z,1,2,0.5,1.5,10,\"a,\"\"b\"\"\nc\"\r\n\r\n" +
      "2024-01-03 00:00:00+00:00,1,2,0.5,1.5,-1,é\n2024-01-04,1.25,2,0.5,1.5,,x\n"
    const bytes = new TextEncoder().encode(text)
    const whole = ok(bytes)
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const parser = new BarCsvParser()
        const buf = new Uint8Array(bytes.length + 1)
        let have = 0, off = 0, k = 0
        while (off < bytes.length) {
          const n = Math.min(sizes[k++ % sizes.length]!, bytes.length - off)
          buf.set(bytes.subarray(off, off + n), have)
          off += n
          const len = have + n
          const used = parser.feed(buf, len)
          if (typeof used !== "number") throw new Error(used.message)
          buf.copyWithin(0, used, len)
          have = len - used
        }
        const r = parser.finish(have)
        expect(Either.getOrThrow(r)).toEqual(whole)
      }),
      { numRuns: 500 }
    )
  })
})

describe("barCsv: exact decimals into columns", () => {
  it("any decimal text a file may hold reads as exactly Number(text) (fast path and slow path alike)", () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(""))
    const decimal = fc.tuple(
      fc.constantFrom("", "-", "+"),
      digits(1, 17),
      fc.option(digits(0, 24), { nil: undefined }),
      fc.option(fc.integer({ min: -30, max: 30 }), { nil: undefined })
    ).map(([sign, int, frac, exp]) =>
      `${sign}${int}${frac === undefined ? "" : `.${frac}`}${exp === undefined ? "" : `e${exp}`}`
    )
    fc.assert(
      fc.property(fc.array(decimal, { minLength: 1, maxLength: 30 }), (texts) => {
        const s = ok(
          `t,open,high,low,close\n${
            texts.map((x, i) => `2024-01-01T00:${String(i).padStart(2, "0")}:00Z,${x},1,1,${x}`).join("\n")
          }\n`
        )
        return texts.every((x, i) => Object.is(s.open[i], Number(x)) && Object.is(s.close[i], Number(x)))
      }),
      { numRuns: 3_000 }
    )
  })
})
