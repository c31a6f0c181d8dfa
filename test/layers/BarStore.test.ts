import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Logger, LogLevel } from "effect"
import type { Bar } from "../../src/domain/Bar.ts"
import { type BarSeries, barsOf, extraRows, seriesFromBars } from "../../src/domain/barSeries.ts"
import { BarStore, seriesKey, type BarStoreShape } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"

const FIXTURES = fileURLToPath(new URL("../fixtures/ktrdr/", import.meta.url))
const quiet = Logger.minimumLogLevel(LogLevel.Warning)
const storeLayer = (dataDir: string) =>
  BarStore.layer.pipe(Layer.provide(DataConfig.make({ dataDir })), Layer.provide(quiet))

/** A fresh temp root per test; the store's dataDir is `<root>/data`, which does not exist until something is saved. */
const withStore = <A, E>(use: (store: BarStoreShape, dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-barstore-"))),
    (root) => {
      const dir = join(root, "data")
      return Effect.flatMap(Effect.provide(BarStore, storeLayer(dir)), (store) => use(store, dir))
    },
    (root) => Effect.promise(() => rm(root, { recursive: true, force: true }))
  )

const bar = (time: number, close: number, volume: number | null = 100): Bar => ({
  time,
  open: close,
  high: close + 1,
  low: close - 1,
  close,
  volume,
  wap: null,
  count: null
})
const plain = (bars: ReadonlyArray<Bar>): BarSeries => seriesFromBars(bars)
const day = (d: number) => Date.UTC(2024, 0, d)
const exists = (p: string) => stat(p).then(() => true, () => false)

describe("BarStore: KTRDR files", () => {
  it.effect("reads every fixture, peeks the same range, and lists them all", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        yield* Effect.promise(() => mkdir(dir))
        const files = (yield* Effect.promise(() => readdir(FIXTURES))).filter((f) => f.endsWith(".csv"))
        yield* Effect.promise(() => Promise.all(files.map((f) => copyFile(join(FIXTURES, f), join(dir, f)))))
        yield* Effect.promise(() =>
          copyFile(join(FIXTURES, "symbol_discovery_cache.json"), join(dir, "symbol_discovery_cache.json"))
        )
        const expected: Record<string, [number, string, string]> = {
          AAPL_1d: [50, "2023-01-01", "2023-02-19"],
          AAPL_1h: [153, "2025-05-22T08", "2025-06-06T23"],
          AAPL_5m: [1536, "2025-05-27T08:00", "2025-06-06T23:55"],
          DEMO_1d: [120, "2023-01-01", "2023-04-30"],
          EURUSD_1h: [2591, "2025-01-02T00", "2025-06-06T20"],
          MSFT_1h: [20758, "2013-12-31T00:30", "2025-06-06T23:00"],
          MSFT_1m: [5746, "2025-05-30T08:02", "2025-06-06T23:59"]
        }
        for (const [name, [rows, first, last]] of Object.entries(expected)) {
          const [series, tf] = name.split("_") as [string, string]
          const data = yield* store.read(series, tf)
          expect(barsOf(data).length).toBe(rows)
          expect(new Date(barsOf(data)[0]!.time).toISOString()).toMatch(new RegExp(`^${first}`))
          expect(new Date(barsOf(data)[rows - 1]!.time).toISOString()).toMatch(new RegExp(`^${last}`))
          expect(yield* store.range(series, tf)).toEqual({
            first: barsOf(data)[0]!.time,
            last: barsOf(data)[rows - 1]!.time
          })
        }
        const listed = yield* store.list()
        expect(listed.map((s) => `${s.series}_${s.timeframe}`)).toEqual(Object.keys(expected))
        expect((yield* store.read("msft", "1h")).indexHeader).toBe("") // series keys are upper-cased
      })
    ))

  it.effect("range reads are inclusive in UTC: KTRDR's 11-row contract on DEMO_1d", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        yield* Effect.promise(() =>
          mkdir(dir).then(() => copyFile(join(FIXTURES, "DEMO_1d.csv"), join(dir, "DEMO_1d.csv")))
        )
        const r = yield* store.read("DEMO", "1d", { start: Date.UTC(2023, 0, 10), end: Date.UTC(2023, 0, 20) })
        expect(barsOf(r).length).toBe(11)
        expect(extraRows(r).length).toBe(11)
        expect(barsOf(r)[0]!.time).toBe(Date.UTC(2023, 0, 10))
        expect(barsOf(r)[10]!.time).toBe(Date.UTC(2023, 0, 20))
        expect(barsOf(yield* store.read("DEMO", "1d", { start: Date.UTC(2023, 0, 20, 1) }))[0]!.time).toBe(
          Date.UTC(2023, 0, 21)
        )
        expect(barsOf(yield* store.read("DEMO", "1d", { start: Date.UTC(2030, 0, 1) }))).toEqual([])
        const bad = yield* Effect.flip(store.read("DEMO", "1d", { start: 2, end: 1 }))
        expect(bad._tag).toBe("InvalidInput")
      })
    ))
})

describe("BarStore: writes and merges", () => {
  it.effect("write → read round trip is identical; the file is KTRDR's current layout; dataDir is created", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const data: BarSeries = seriesFromBars([bar(day(2), 2.5, null), bar(day(1), 1.25)], ["note"], [[
          "b, \"quoted\""
        ], ["a"]])
        const result = yield* store.write("aapl", "1d", data)
        expect(result).toMatchObject({ total: 2, first: day(1), last: day(2) })
        const back = yield* store.read("AAPL", "1d")
        expect(barsOf(back)).toEqual([barsOf(data)[1], barsOf(data)[0]]) // saved sorted
        expect(extraRows(back)).toEqual([["a"], ["b, \"quoted\""]])
        const text = yield* Effect.promise(() => readFile(join(dir, "AAPL_1d.csv"), "utf8"))
        expect(text).toBe(
          "timestamp,open,high,low,close,volume,note\n2024-01-01T00:00:00Z,1.25,2.25,0.25,1.25,100,a\n" +
            "2024-01-02T00:00:00Z,2.5,3.5,1.5,2.5,-1,\"b, \"\"quoted\"\"\"\n"
        )
      })
    ))

  it.effect(
    "merge: new bars win, extras of stored rows kept, output sorted and unique; " +
      "no-op merges do not rewrite",
    () =>
      withStore((store, dir) =>
        Effect.gen(function*() {
          yield* store.write("X", "1h", seriesFromBars([bar(day(1), 1), bar(day(3), 3)], ["tag"], [["one"], ["three"]]))
          const r = yield* store.merge("X", "1h", plain([bar(day(4), 4), bar(day(3), 33), bar(day(2), 2)]))
          expect(r).toEqual({ added: 2, replaced: 1, total: 4, first: day(1), last: day(4) })
          const back = yield* store.read("X", "1h")
          expect(barsOf(back).map((b) => b.close)).toEqual([1, 2, 33, 4])
          expect(extraRows(back)).toEqual([["one"], [""], ["three"], [""]])
          const file = join(dir, "X_1h.csv")
          const before = yield* Effect.promise(() => stat(file))
          const again = yield* store.merge("X", "1h", plain([bar(day(3), 33)]))
          expect(again).toEqual({ added: 0, replaced: 1, total: 4, first: day(1), last: day(4) })
          expect((yield* Effect.promise(() => stat(file))).ino).toBe(before.ino) // not replaced
          expect((yield* store.merge("X", "1h", plain([bar(day(3), 0)]), { overwrite: false })).replaced).toBe(0)
          expect(barsOf(yield* store.read("X", "1h"))[2]!.close).toBe(33)
        })
      )
  )

  it.effect("merge onto a missing series creates it; an empty merge creates nothing", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        expect(yield* store.merge("EMPTY", "1d", plain([]))).toEqual({
          added: 0,
          replaced: 0,
          total: 0,
          first: null,
          last: null
        })
        expect(yield* Effect.promise(() => exists(join(dir, "EMPTY_1d.csv")))).toBe(false)
        expect((yield* store.merge("NEW", "1d", plain([bar(day(5), 5)]))).added).toBe(1)
        expect(yield* store.range("NEW", "1d")).toEqual({ first: day(5), last: day(5) })
      })
    ))

  it.effect("parallel merges of one series all land (no lost update); other series proceed alongside", () =>
    withStore((store) =>
      Effect.gen(function*() {
        const batches = Array.from({ length: 24 }, (_, k) =>
          Array.from({ length: 50 }, (_, i) => bar(Date.UTC(2024, 0, 1) + (i * 24 + k) * 60_000, k + i / 100)))
        yield* Effect.all([
          ...batches.map((b) =>
            store.merge("PAR", "1m", plain(b))
          ),
          ...batches.map((b, k) => store.merge(`OTHER${k % 3}`, "1m", plain(b)))
        ], { concurrency: "unbounded" })
        const back = yield* store.read("PAR", "1m")
        expect(barsOf(back).length).toBe(24 * 50)
        expect(back.outOfOrder + back.duplicates).toBe(0)
        expect(barsOf(yield* store.read("OTHER0", "1m")).length).toBe(8 * 50)
      })
    ))

  it.effect("refuses bars that cannot be written, and malformed extras", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const bad: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }>> = [
          store.merge("V", "1d", plain([bar(day(1), Infinity)])),
          store.merge("V", "1d", plain([bar(day(1) + 0.5, 1)])),
          store.merge("V", "1d", plain([bar(day(1), 1, -Infinity)])),
          store.write("V", "1d", seriesFromBars([bar(day(1), 1)], ["Close"], [["x"]])),
          store.write("V", "1d", { ...seriesFromBars([bar(day(1), 1)]), extraColumns: ["a"], extras: [[]] })
        ]
        for (const e of bad) expect((yield* Effect.flip(e))._tag).toBe("InvalidInput")
        expect(yield* Effect.promise(() => exists(dir))).toBe(false)
      })
    ))
})

describe("BarStore: interruption", () => {
  it.live("an interrupted save leaves the old or the new file and no temp file", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const old = plain([bar(day(1), 1)])
        yield* store.write("INT", "1m", old)
        const big = plain(Array.from({ length: 200_000 }, (_, i) => bar(day(2) + i * 60_000, 100 + (i % 500) / 100)))
        for (const delay of [0, 5, 20, 60]) {
          const fiber = yield* Effect.fork(store.write("INT", "1m", big))
          yield* Effect.sleep(delay)
          yield* Fiber.interrupt(fiber)
          expect(yield* Effect.promise(() => readdir(dir))).toEqual(["INT_1m.csv"])
          const total = barsOf(yield* store.read("INT", "1m")).length
          expect([1, 200_000]).toContain(total)
          if (total === 200_000) yield* store.write("INT", "1m", old)
        }
      })
    ))
})

describe("BarStore: failures are typed and harmless", () => {
  it.effect("a missing series is NotFound for read and range", () =>
    withStore((store) =>
      Effect.gen(function*() {
        expect((yield* Effect.flip(store.read("NOPE", "1d")))._tag).toBe("NotFound")
        expect((yield* Effect.flip(store.range("NOPE", "1d")))._tag).toBe("NotFound")
        expect(yield* store.list()).toEqual([])
      })
    ))

  it.effect("a corrupt file is CorruptData naming line 5, and is never overwritten", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const file = join(dir, "BAD_1d.csv")
        const text = "date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n" +
          "2024-01-03,1,2,0.5,1.5,10\n2024-01-02,abc,1,1,1,1\n2024-01-05,1,2,0.5,1.5,10\n"
        yield* Effect.promise(() => mkdir(dir).then(() => writeFile(file, text)))
        const attempts: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>> = [
          store.read("BAD", "1d"),
          store.merge("BAD", "1d", plain([bar(day(9), 9)])),
          store.write("BAD", "1d", plain([bar(day(9), 9)]))
        ]
        for (const attempt of attempts) {
          const e = yield* Effect.flip(attempt)
          expect(e).toMatchObject({ _tag: "CorruptData", file, line: 5 })
          expect(e.message).toMatch(/open: not a number/)
        }
        expect(yield* Effect.promise(() => readFile(file, "utf8"))).toBe(text)
        expect(yield* Effect.promise(() => readdir(dir))).toEqual(["BAD_1d.csv"])
      })
    ))

  it.effect("range peeks big files at both ends, and falls back to a full parse (exact line) when an end is bad", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const bars = Array.from({ length: 5000 }, (_, i) => bar(Date.UTC(2024, 0, 1) + i * 60_000, 100 + i / 100))
        yield* store.write("BIG", "1m", plain(bars))
        expect(yield* store.range("BIG", "1m")).toEqual({ first: bars[0]!.time, last: bars[4999]!.time })
        const file = join(dir, "BIG_1m.csv")
        yield* Effect.promise(() =>
          readFile(file, "utf8").then((t) => writeFile(file, `${t}2030-01-01T00:00:00Z,x,1,1,1,1\n`))
        )
        expect(yield* Effect.flip(store.range("BIG", "1m"))).toMatchObject({ _tag: "CorruptData", line: 5002 })
      })
    ))

  it.effect("path-like or malformed series and unknown timeframes are InvalidInput, and nothing touches the disk", () =>
    withStore((store, dir) =>
      Effect.gen(function*() {
        const series = [
          "../x",
          "a/b",
          "",
          "A".repeat(40),
          "\u0001",
          "..",
          "a\\b",
          ".hidden",
          "A..B",
          "x\ny",
          "nul\u0000",
          "AAPL 1"
        ]
        for (const s of series) {
          const attempts: ReadonlyArray<Effect.Effect<unknown, { readonly _tag: string }>> = [
            store.read(s, "1d"),
            store.range(s, "1d"),
            store.merge(s, "1d", plain([bar(day(1), 1)])),
            store.write(s, "1d", plain([bar(day(1), 1)]))
          ]
          for (const e of attempts) {
            expect(yield* Effect.flip(e)).toMatchObject({ _tag: "InvalidInput", field: "series" })
          }
        }
        for (const tf of ["1x", "1H", "", "../1d", "1 day"]) {
          expect(yield* Effect.flip(store.merge("AAPL", tf, plain([bar(day(1), 1)])))).toMatchObject({
            _tag: "InvalidInput",
            field: "timeframe"
          })
        }
        expect(yield* Effect.promise(() => exists(dir))).toBe(false)
        expect(Either.getOrThrow(seriesKey("eur.usd"))).toBe("EUR.USD")
        expect(Either.getOrThrow(seriesKey("ES_FUT-2024"))).toBe("ES_FUT-2024")
        expect(Either.isRight(seriesKey("A".repeat(32)))).toBe(true)
      })
    ))

  it.effect(
    "list: only <SERIES>_<TF>.csv with a valid key and timeframe; a series may contain '_'; " +
      "temp files of dead writers are swept",
    () =>
      Effect.gen(function*() {
        const root = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-barstore-")))
        const dir = join(root, "data")
        yield* Effect.promise(() => mkdir(dir))
        const names = [
          "ES_FUT_1h.csv",
          "AAPL_1d.csv",
          "aapl_1d.csv",
          "AAPL_1x.csv",
          "AAPL.csv",
          "notes.txt",
          "symbol_discovery_cache.json",
          ".AAPL_1d.csv.999999.0123abcd.tmp",
          `.AAPL_1d.csv.${process.pid}.0123abcd.tmp`
        ]
        yield* Effect.promise(() =>
          Promise.all(names.map((n) => writeFile(join(dir, n), "timestamp,open,high,low,close,volume\n")))
        )
        yield* Effect.promise(() => mkdir(join(dir, "DIR_1d.csv")))
        const listed = yield* Effect.flatMap(Effect.provide(BarStore, storeLayer(dir)), (s) => s.list())
        expect(listed.map((s) => [s.series, s.timeframe])).toEqual([["AAPL", "1d"], ["ES_FUT", "1h"]])
        const left = yield* Effect.promise(() => readdir(dir))
        expect(left).not.toContain(".AAPL_1d.csv.999999.0123abcd.tmp") // pid 999999 is not running
        expect(left).toContain(`.AAPL_1d.csv.${process.pid}.0123abcd.tmp`) // a live writer's file is left alone
        yield* Effect.promise(() => rm(root, { recursive: true, force: true }))
      })
  )
})
