/**
 * PostgreSQL BarStore on a private cluster (test/support/pgCluster.ts; fsync off — durability is not measured).
 * - write: 1,000,000 1-min bars merged in 100k-bar segments (one upsert statement each) into a new series; goal
 *   ≥ 300,000 bars/s; baseline: a plain INSERT … SELECT unnest of the same arrays into a table with the same key
 *   (what PostgreSQL ingests with no merge rule), so the ratio is what the merge rule and the counts cost.
 * - remerge: the same 1,000,000 bars merged again in 100k segments over the stored series, half of them with a new
 *   close: every segment meets stored bars, so it is staged and merged by one statement (inserts none, replaces all,
 *   rewrites half). Goal ≥ 300,000 bars/s too; baseline: the plain INSERT … unnest of the same arrays into a table.
 * - read: a 1,000,000-bar window of a 1,200,000-bar series through BarStore.read; goal ≥ 1,000,000 bars/s;
 *   baseline: the same rows fetched the ordinary way (SELECT of the six columns, rows as arrays, node-postgres).
 */
import { Layer, Logger, LogLevel, ManagedRuntime, Redacted } from "effect"
import pg from "pg"
import { type BarSeries, seriesFromBars, sliceSeries } from "../src/domain/barSeries.ts"
import { BarStore } from "../src/layers/BarStore.ts"
import { describeDatabase } from "../src/layers/DatabaseConfig.ts"
import { pgBarStoreLayer } from "../src/layers/PgBarStore.ts"
import { pgDatabase } from "../src/layers/pgDatabase.ts"
import { startPgCluster } from "../test/support/pgCluster.ts"
import { makeBars } from "./barSeriesFixture.ts"
import { type Bench, interleave, median } from "./harness.ts"

const N = 1_000_000
const SEGMENT = 100_000
const ROUNDS = 3

/** The arrays of one segment as PostgreSQL array literals, for the plain INSERT … unnest baseline. */
const columnParams = (s: BarSeries): Array<string> =>
  [s.time, s.open, s.high, s.low, s.close, s.volume].map((a) => `{${a.subarray(0, s.length).join(",")}}`)

const createPlain = (raw: pg.Client) =>
  raw.query(`create table plain (sid int, time bigint, open float8, high float8, low float8, close float8,
    volume float8, primary key (sid, time))`)

/** The baseline: the same segments as a plain INSERT … unnest (what PostgreSQL ingests with no merge rule), ms. */
const plainInsert = async (raw: pg.Client, round: number, data: BarSeries): Promise<number> => {
  const t0 = performance.now()
  for (let i = 0; i < N; i += SEGMENT) {
    await raw.query(
      `insert into plain select $1, * from unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[],
       $6::float8[], $7::float8[])`,
      [round, ...columnParams(sliceSeries(data, i, i + SEGMENT))]
    )
  }
  return performance.now() - t0
}

const withCluster = async <A>(use: (url: string) => Promise<A>): Promise<A> => {
  const cluster = await startPgCluster()
  try {
    return await use(await cluster.createDatabase("bench"))
  } finally {
    await cluster.stop()
  }
}

const storeRuntime = (url: string) =>
  ManagedRuntime.make(
    pgBarStoreLayer(describeDatabase(url)).pipe(
      Layer.provide(pgDatabase(Redacted.make(url))),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
  )

/** A fresh database with the store's runtime, the store, and a plain client for baselines; all closed after `use`. */
const withStore = <A>(
  use: (
    c: { readonly rt: ReturnType<typeof storeRuntime>; readonly raw: pg.Client; readonly store: BarStore["Type"] }
  ) => Promise<A>
): Promise<A> =>
  withCluster(async (url) => {
    const rt = storeRuntime(url)
    const raw = new pg.Client({ connectionString: url })
    await raw.connect()
    try {
      return await use({ rt, raw, store: await rt.runPromise(BarStore) })
    } finally {
      await raw.end()
      await rt.dispose()
    }
  })

const write: Bench = {
  name: "pg-write: BarStore.merge of 1,000,000 bars in 100k segments vs a plain INSERT of the same arrays",
  run: () =>
    withStore(async ({ raw, rt, store }) => {
      const data = seriesFromBars(makeBars(N))
      await createPlain(raw)
      let round = 0
      const runs = await interleave(
        ROUNDS,
        async () => {
          const name = `W${++round}`
          const t0 = performance.now()
          for (let i = 0; i < N; i += SEGMENT) {
            await rt.runPromise(store.merge(name, "1m", sliceSeries(data, i, i + SEGMENT)))
          }
          return performance.now() - t0
        },
        () => plainInsert(raw, round, data)
      )
      const ours = median(runs.a), plain = median(runs.b)
      const rate = N / (ours / 1000)
      return {
        name: write.name,
        figure: { label: `merge, median of ${ROUNDS}`, value: rate, unit: "bars/s" },
        baseline: { label: "plain INSERT … unnest, same segments", value: N / (plain / 1000), unit: "bars/s" },
        ratio: ours / plain,
        goal: "figure ≥ 300,000 bars/s (ratio = merge time ÷ plain insert time, informative)",
        pass: rate >= 300_000,
        notes: [`merge ${ours.toFixed(0)} ms, plain insert ${plain.toFixed(0)} ms for ${N} bars`]
      }
    })
}

/** `s` with the close of every other bar moved by `delta` (a series the store must partly rewrite). */
const withCloses = (s: BarSeries, delta: number): BarSeries => {
  const close = s.close.slice()
  for (let i = 0; i < s.length; i += 2) close[i] = close[i]! + delta
  return { ...s, close }
}

const remerge: Bench = {
  name: "pg-remerge: BarStore.merge of 1,000,000 bars over the stored ones (half changed) vs a plain INSERT",
  run: () =>
    withStore(async ({ raw, rt, store }) => {
      const data = seriesFromBars(makeBars(N))
      await rt.runPromise(store.write("M", "1m", data))
      await raw.query("vacuum analyze ktrdr_bars")
      await createPlain(raw)
      let round = 0, replaced = 0
      const runs = await interleave(
        ROUNDS,
        async () => {
          const changed = withCloses(data, ++round / 100)
          const t0 = performance.now()
          for (let i = 0; i < N; i += SEGMENT) {
            replaced += (await rt.runPromise(store.merge("M", "1m", sliceSeries(changed, i, i + SEGMENT)))).replaced
          }
          return performance.now() - t0
        },
        () => plainInsert(raw, round, data)
      )
      if (replaced !== ROUNDS * N) throw new Error(`replaced ${replaced} bars, expected ${ROUNDS * N}`)
      const back = await rt.runPromise(store.read("M", "1m"))
      if (back.close[0] !== data.close[0]! + ROUNDS / 100 || back.close[1] !== data.close[1]) {
        throw new Error("the re-merged closes are not the last round's")
      }
      // the common overlap: the same bars again (a re-download), which changes nothing
      const same = withCloses(data, ROUNDS / 100)
      const t0 = performance.now()
      for (let i = 0; i < N; i += SEGMENT) {
        await rt.runPromise(store.merge("M", "1m", sliceSeries(same, i, i + SEGMENT)))
      }
      const unchanged = performance.now() - t0
      const ours = median(runs.a), plain = median(runs.b)
      const rate = N / (ours / 1000)
      return {
        name: remerge.name,
        figure: { label: `re-merge, median of ${ROUNDS}`, value: rate, unit: "bars/s" },
        baseline: { label: "plain INSERT … unnest, same segments", value: N / (plain / 1000), unit: "bars/s" },
        ratio: ours / plain,
        goal: "figure ≥ 300,000 bars/s (ratio = merge time ÷ plain insert time, informative)",
        pass: rate >= 300_000,
        notes: [
          `re-merge ${ours.toFixed(0)} ms, plain insert ${plain.toFixed(0)} ms for ${N} bars`,
          `the same bars merged again, nothing changed: ${unchanged.toFixed(0)} ms (${
            (N / (unchanged / 1000)).toFixed(0)
          } bars/s)`
        ]
      }
    })
}

const read: Bench = {
  name: "pg-read: BarStore.read of a 1,000,000-bar window vs fetching the same rows as row arrays",
  run: () =>
    withStore(async ({ raw, rt, store }) => {
      // the fixture's 1.2M bar objects are dropped once written: a server's heap does not hold them, and the
      // garbage collector's passes over them would be charged to the reads
      const { start, end } = await (async () => {
        const bars = makeBars(1_200_000)
        await rt.runPromise(store.write("R", "1m", seriesFromBars(bars)))
        return { start: bars[100_000]!.time, end: bars[1_099_999]!.time }
      })()
      await raw.query("vacuum analyze ktrdr_bars")
      let count = 0, rawCount = 0
      const runs = await interleave(
        5,
        async () => {
          const t0 = performance.now()
          count = (await rt.runPromise(store.read("R", "1m", { start, end }))).length
          return performance.now() - t0
        },
        async () => {
          const t0 = performance.now()
          const r = await raw.query({
            text: `select time, open, high, low, close, volume from ktrdr_bars
                where series_id = (select id from ktrdr_series where series = 'R') and time between $1 and $2
                order by time`,
            values: [start, end],
            rowMode: "array"
          })
          rawCount = r.rows.length
          return performance.now() - t0
        }
      )
      if (count !== 1_000_000 || rawCount !== 1_000_000) throw new Error(`read ${count} / ${rawCount} bars`)
      const ours = median(runs.a), rows = median(runs.b)
      const rate = count / (ours / 1000)
      return {
        name: read.name,
        figure: { label: "BarStore.read, median of 5", value: rate, unit: "bars/s" },
        baseline: { label: "SELECT rows (rowMode array)", value: count / (rows / 1000), unit: "bars/s" },
        ratio: ours / rows,
        goal: "figure ≥ 1,000,000 bars/s (ratio = our read time ÷ row fetch time, informative)",
        pass: rate >= 1_000_000,
        notes: [`read ${ours.toFixed(0)} ms (min ${Math.min(...runs.a).toFixed(0)}), rows ${rows.toFixed(0)} ms`]
      }
    })
}

export default [write, remerge, read]
