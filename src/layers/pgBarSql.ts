/**
 * The PostgreSQL bar store's statements and how columns travel: every value is a parameter (arrays as PostgreSQL
 * array literals built from the typed arrays, one per column), never text spliced into SQL; the only dynamic part
 * of any statement is the number of `$n` placeholders for extra columns.
 *
 * Reads come back as one bytea per chunk, each row the six float8s of (time, open, high, low, close, volume) in
 * network order (`float8send`), so a million bars arrive as 48 MB of bytes decoded straight into columns — no row
 * objects, no per-value text parsing.
 */
import type { BarSeries } from "../domain/barSeries.ts"

/** Locks the series row for the rest of the transaction (creating it when new): merges of one series queue here. */
export const LOCK_SERIES = `
  insert into ktrdr_series as s (series, timeframe) values ($1, $2)
  on conflict (series, timeframe) do update set series = s.series
  returning id, extra_columns`

export const SERIES_META = `
  select id, extra_columns, bar_count, missing, first_time, last_time, version
  from ktrdr_series where series = $1 and timeframe = $2`

export const SERIES_VERSION = `select version from ktrdr_series where series = $1 and timeframe = $2`

export const LIST_SERIES = `select series, timeframe from ktrdr_series`

const MISSING = (t: string) => `(${t}.open = 'NaN' or ${t}.high = 'NaN' or ${t}.low = 'NaN' or ${t}.close = 'NaN')`

/**
 * One segment's upsert, in one statement: new timestamps inserted, equal ones replaced when $8 (overwrite) and
 * different — a replaced row keeps its extras, a new one gets none — and the series row's counts, bounds and
 * version updated from what changed. Every sub-statement sees the same snapshot, so `old` is the state before.
 */
export const MERGE = `
  with input as (
    select * from unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[])
      as u(time, open, high, low, close, volume)
  ),
  old as (
    select b.time, ${MISSING("b")} as missing
    from ktrdr_bars b join input i on b.series_id = $1 and b.time = i.time
    -- bounded by the key, so a segment probes only its own span (an appended tail probes nothing)
    where b.time between (select min(time) from input) and (select max(time) from input)
  ),
  up as (
    insert into ktrdr_bars as b (series_id, time, open, high, low, close, volume)
    select $1, time, open, high, low, close, volume from input
    on conflict (series_id, time) do update
      set open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
          volume = excluded.volume
      where $8 and (b.open, b.high, b.low, b.close, b.volume) is distinct from
        (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)
    returning b.time, (b.xmax = 0) as inserted, ${MISSING("b")} as missing
  ),
  delta as (
    select count(*) filter (where up.inserted) as added,
      count(*) as changed,
      coalesce(sum((up.missing::int) - coalesce(old.missing::int, 0)), 0) as missing,
      min(up.time) filter (where up.inserted) as first,
      max(up.time) filter (where up.inserted) as last
    from up left join old on old.time = up.time
  )
  update ktrdr_series s set
    bar_count = s.bar_count + d.added,
    missing = s.missing + d.missing,
    first_time = least(s.first_time, d.first),
    last_time = greatest(s.last_time, d.last),
    version = case when d.changed > 0 then nextval('ktrdr_version_seq') else s.version end
  from delta d where s.id = $1
  returning s.bar_count, s.first_time, s.last_time, d.added, (select count(*) from old) as hits`

export const DELETE_BARS = `delete from ktrdr_bars where series_id = $1`

/** The replacing insert of `write`, with `extras` extra columns ($8…) folded into each row's text[]. */
export const insertBars = (extras: number): string => {
  const cols = Array.from({ length: extras }, (_, k) => `$${8 + k}::text[]`)
  const names = Array.from({ length: extras }, (_, k) => `e${k}`)
  return `
    insert into ktrdr_bars (series_id, time, open, high, low, close, volume, extras)
    select $1, time, open, high, low, close, volume, ${extras > 0 ? `array[${names.join(", ")}]` : "null"}
    from unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[]${
    cols.map((c) => `, ${c}`).join("")
  }) as u(time, open, high, low, close, volume${names.map((n) => `, ${n}`).join("")})`
}

export const SET_SERIES = `
  update ktrdr_series set extra_columns = $2::text[], bar_count = $3, missing = $4, first_time = $5,
    last_time = $6, version = nextval('ktrdr_version_seq')
  where id = $1`

export const READ_SNAPSHOT = `set transaction isolation level repeatable read, read only`

/**
 * For this transaction only: these statements are big but simple, and PostgreSQL's JIT (on by default when built
 * with LLVM, as Debian's is) spent ~0.8 s compiling each segment's upsert or read chunk to save nothing.
 */
export const NO_JIT = `set local jit = off`

const ROW = `float8send(time::float8) || float8send(open) || float8send(high) || float8send(low) || ` +
  `float8send(close) || float8send(volume)`

/** Up to $4 rows of [$2, $3] in time order, as one bytea (plus the extras as JSON when `withExtras`). */
export const readChunk = (withExtras: boolean): string => `
  select count(*)::int as n, max(time) as last, string_agg(${ROW}, ''::bytea order by time) as rows${
  withExtras ? `, json_agg(coalesce(extras, '{}') order by time) as extras` : ""
}
  from (select time, open, high, low, close, volume${withExtras ? ", extras" : ""} from ktrdr_bars
        where series_id = $1 and time >= $2 and time <= $3 order by time limit $4) b`

/** A float column as a PostgreSQL array literal (`NaN` spelled as PostgreSQL reads it; ±Infinity is refused before). */
export const floatArray = (a: Float64Array, n: number): string => `{${a.subarray(0, n).join(",")}}`

const quoteElement = (s: string) => `"${s.replace(/[\\"]/g, "\\$&")}"`

export const textArray = (xs: ReadonlyArray<string>): string => `{${xs.map(quoteElement).join(",")}}`

/** The six numeric columns of `s` as parameters $2…$7. */
export const columnParams = (s: BarSeries): Array<string> => [
  floatArray(s.time, s.length),
  floatArray(s.open, s.length),
  floatArray(s.high, s.length),
  floatArray(s.low, s.length),
  floatArray(s.close, s.length),
  floatArray(s.volume, s.length)
]
