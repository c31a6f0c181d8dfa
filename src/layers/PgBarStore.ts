/**
 * BarStore on PostgreSQL (KTRDR_DATABASE_URL): the same contract and merge rule as the CSV store, for any number of
 * processes sharing one database. A segment's merge is one transaction (lock the series row, COPY the segment in,
 * update the series' counts and version), so a crash or a lost connection leaves the old or the new state; `write`
 * replaces a series in one transaction. Reads use the (series_id, time) key — a window never scans the series — and
 * are one binary COPY out, decoded straight into columns, inside one repeatable-read snapshot. Every operation is
 * retried once when its connection turns out to be dead (pgFaults.ts).
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Either, Layer } from "effect"
import { sortUniqueSeries } from "../domain/barMerge.ts"
import { type BarSeries, SeriesBuilder } from "../domain/barSeries.ts"
import { NotFound, StorageError } from "../domain/dataErrors.ts"
import { readBounds, seriesKey, validateBars, validateSeries } from "../domain/seriesRules.ts"
import { parseTimeframe } from "../domain/Timeframe.ts"
import { BarStore } from "./BarStore.ts"
import type { BarStoreShape, StoredBars, StoredSeries } from "./barStoreShape.ts"
import {
  APPENDED,
  COPY_BARS,
  COPY_ROWS,
  COPY_STAGE,
  DELETE_BARS,
  LIST_SERIES,
  LOCK_SERIES,
  MERGE_STAGE,
  NO_JIT,
  READ_BEGIN,
  READ_META,
  readCopy,
  SERIES_META,
  SERIES_VERSION,
  SET_SERIES,
  SPAN_HAS_BARS,
  STAGE,
  textArray
} from "./pgBarSql.ts"
import { copyIn, copyOut } from "./pgCopy.ts"
import { BarCopyDecoder, encodeBars, encodeRows } from "./pgCopyBinary.ts"
import { causeText } from "./pgDatabase.ts"
import { retryLostOnce } from "./pgFaults.ts"

interface SeriesRow {
  readonly id: number
  readonly extra_columns: ReadonlyArray<string>
  readonly bar_count: number
  readonly missing: number
  readonly first_time: number | null
  readonly last_time: number | null
  readonly version: number
}

interface MergeRow {
  readonly bar_count: number
  readonly first_time: number | null
  readonly last_time: number | null
  readonly added: number
  readonly hits: number
}

const missingRows = (s: BarSeries): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    if (Number.isNaN(s.open[i]!) || Number.isNaN(s.high[i]!) || Number.isNaN(s.low[i]!) || Number.isNaN(s.close[i]!)) {
      n++
    }
  }
  return n
}

/**
 * Room for a read of [lo, hi]: the series' count scaled by the window's share of its span, a little over. Exact for
 * the whole series and close for an even one, so the columns are allocated once instead of doubling up to a million
 * rows (each doubling a new 8 MB per column, which the garbage collector then has to chase); a guess that falls short
 * only costs a doubling.
 */
const expectedRows = (row: SeriesRow, lo: number, hi: number): number => {
  const first = row.first_time, last = row.last_time
  if (first === null || last === null || row.bar_count === 0) return 16
  if (lo <= first && hi >= last) return row.bar_count
  const span = Math.min(hi, last) - Math.max(lo, first)
  if (span < 0) return 16
  const share = last > first ? span / (last - first) : 1
  return Math.min(row.bar_count, Math.ceil(row.bar_count * share * 1.02) + 1024)
}

/** The stored form's own report: rows are unique and sorted by the key, so only missing prices are counted. */
const stored = (series: BarSeries, missing: number): StoredBars => ({
  ...series,
  indexHeader: "timestamp",
  outOfOrder: 0,
  duplicates: 0,
  missing
})

export const makePgBarStore = (database: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const locate = (series: string, timeframe: string) =>
      Effect.gen(function*() {
        const key = yield* seriesKey(series)
        const tf = yield* parseTimeframe(timeframe)
        return { key, tf: tf.id, name: `${key}_${tf.id}` }
      })

    const failed = (name: string) => (e: SqlError.SqlError) =>
      new StorageError({ file: `postgres:${database}/${name}`, message: causeText(e.cause ?? e) })

    /** One statement or transaction of series `name`: retried once on a lost connection, then a StorageError. */
    const guarded = <A, E, R>(name: string, body: Effect.Effect<A, E | SqlError.SqlError, R>) =>
      retryLostOnce(body, failed(name))

    const transaction = <A, E, R>(name: string, body: Effect.Effect<A, E, R>) =>
      guarded(name, sql.withTransaction(body))

    const meta = (key: string, tf: string) =>
      Effect.map(sql.unsafe<SeriesRow>(SERIES_META, [key, tf]), (rows) => rows[0])

    const read: BarStoreShape["read"] = Effect.fn("PgBarStore.read")(function*(series, timeframe, range = {}) {
      const { key, name, tf } = yield* locate(series, timeframe)
      const { start, end } = yield* readBounds(range)
      const lo = Math.ceil(Math.max(start, Number.MIN_SAFE_INTEGER))
      const hi = Math.floor(Math.min(end, Number.MAX_SAFE_INTEGER))
      const snapshot = Effect.gen(function*() {
        yield* sql.unsafe(READ_BEGIN)
        const [row] = yield* sql.unsafe<SeriesRow>(READ_META, [key, tf, String(lo), String(hi)])
        if (row === undefined) {
          return yield* new NotFound({ what: name, message: `no stored bars for ${name} (postgres:${database})` })
        }
        const withExtras = row.extra_columns.length > 0
        const builder = new SeriesBuilder(row.extra_columns, expectedRows(row, lo, hi))
        const decoder = new BarCopyDecoder(builder, withExtras)
        yield* copyOut(readCopy(withExtras), {
          feed: (buf, view, start, end) => decoder.feed(buf, view, start, end),
          messages: (view, p, end) => decoder.rowMessages(view, p, end)
        })
        return stored(builder.finish(), row.missing)
      })
      return yield* transaction(name, snapshot)
    })

    const range: BarStoreShape["range"] = Effect.fn("PgBarStore.range")(function*(series, timeframe) {
      const { key, name, tf } = yield* locate(series, timeframe)
      const row = yield* guarded(name, meta(key, tf))
      if (row === undefined || row.bar_count === 0 || row.first_time === null || row.last_time === null) {
        return yield* new NotFound({ what: name, message: `${name} holds no bars` })
      }
      return { first: row.first_time, last: row.last_time }
    })

    /**
     * A segment no stored bar meets (an appended tail, a backfill, a filled gap) is COPYed straight into the bars and
     * the counts moved by what it holds; one that meets stored bars is staged and merged by one statement.
     */
    const mergeSegment = (id: number, fresh: BarSeries, overwrite: boolean) =>
      Effect.gen(function*() {
        const n = fresh.length, first = fresh.time[0]!, last = fresh.time[n - 1]!
        const [span] = yield* sql.unsafe<{ readonly hit: boolean }>(SPAN_HAS_BARS, [id, first, last])
        if (!span!.hit) {
          yield* copyIn(COPY_BARS, [encodeBars(fresh, id)])
          const [r] = yield* sql.unsafe<Omit<MergeRow, "added" | "hits">>(APPENDED, [
            id,
            n,
            missingRows(fresh),
            first,
            last
          ])
          return { ...r!, added: n, hits: 0 }
        }
        yield* sql.unsafe(STAGE)
        yield* copyIn(COPY_STAGE, [encodeBars(fresh)])
        const [r] = yield* sql.unsafe<MergeRow>(MERGE_STAGE, [id, overwrite, first, last])
        return r!
      })

    const merge: BarStoreShape["merge"] = Effect.fn("PgBarStore.merge")(
      function*(series, timeframe, bars, options = {}) {
        const { key, name, tf } = yield* locate(series, timeframe)
        yield* validateBars(bars)
        const fresh = sortUniqueSeries(bars)
        if (fresh.length === 0) {
          const row = yield* guarded(name, meta(key, tf))
          return {
            added: 0,
            replaced: 0,
            total: row?.bar_count ?? 0,
            first: row?.first_time ?? null,
            last: row?.last_time ?? null
          }
        }
        const overwrite = options.overwrite ?? true
        const tx = Effect.gen(function*() {
          yield* sql.unsafe(NO_JIT)
          const [locked] = yield* sql.unsafe<{ readonly id: number }>(LOCK_SERIES, [key, tf])
          const r = yield* mergeSegment(locked!.id, fresh, overwrite)
          return {
            added: r.added,
            replaced: overwrite ? r.hits : 0,
            total: r.bar_count,
            first: r.first_time,
            last: r.last_time
          }
        })
        return yield* transaction(name, tx)
      }
    )

    const write: BarStoreShape["write"] = Effect.fn("PgBarStore.write")(function*(series, timeframe, data) {
      const { key, name, tf } = yield* locate(series, timeframe)
      yield* validateSeries(data)
      const sorted = sortUniqueSeries(data)
      const n = sorted.length
      const first = n > 0 ? sorted.time[0]! : null, last = n > 0 ? sorted.time[n - 1]! : null
      const tx = Effect.gen(function*() {
        yield* sql.unsafe(NO_JIT)
        const [locked] = yield* sql.unsafe<{ readonly id: number }>(LOCK_SERIES, [key, tf])
        const id = locked!.id
        yield* sql.unsafe(DELETE_BARS, [id])
        if (n > 0) yield* copyIn(COPY_ROWS, encodeRows(sorted, id))
        yield* sql.unsafe(SET_SERIES, [id, textArray(sorted.extraColumns), n, missingRows(sorted), first, last])
      })
      yield* transaction(name, tx)
      return { added: n, replaced: 0, total: n, first, last }
    })

    const list: BarStoreShape["list"] = () =>
      Effect.gen(function*() {
        const rows = yield* sql.unsafe<{ readonly series: string; readonly timeframe: string }>(LIST_SERIES)
        const out: Array<StoredSeries> = []
        for (const r of rows) {
          const k = seriesKey(r.series), t = parseTimeframe(r.timeframe)
          if (Either.isLeft(k) || k.right !== r.series || Either.isLeft(t)) continue
          out.push({ series: k.right, timeframe: t.right.id, file: `postgres:${database}/${r.series}_${t.right.id}` })
        }
        return out.sort((a, b) =>
          a.series === b.series ? a.timeframe.localeCompare(b.timeframe) : a.series < b.series ? -1 : 1
        )
      }).pipe((self) => guarded("*", self))

    const version: BarStoreShape["version"] = Effect.fn("PgBarStore.version")(function*(series, timeframe) {
      const { key, name, tf } = yield* locate(series, timeframe)
      const rows = yield* guarded(name, sql.unsafe<{ readonly version: number }>(SERIES_VERSION, [key, tf]))
      return rows[0] === undefined ? undefined : `pg:${rows[0].version}`
    })

    return { read, range, merge, write, list, version } satisfies BarStoreShape
  })

/** BarStore over the SqlClient in context (pgDatabase.ts builds it, migrated). */
export const pgBarStoreLayer = (database: string) =>
  Layer.effect(
    BarStore,
    makePgBarStore(database)
  )
