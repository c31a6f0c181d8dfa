/**
 * The PostgreSQL bar store's statements. Values travel as parameters or as COPY data, never as text spliced into
 * SQL; the COPY statements themselves take no parameters, so a read's bounds are set as transaction-local settings
 * (set_config with parameters) that its query reads back with current_setting.
 *
 * Bars move in PostgreSQL's binary COPY format (pgCopyBinary.ts): a segment is encoded from the columns and COPYed
 * in — straight into ktrdr_bars when no stored bar lies in its span, otherwise into a per-connection staging table
 * merged by one statement — and a read is one COPY out, decoded straight into columns.
 */

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

/** Whether any stored bar of series $1 lies in [$2, $3]: one probe of the key. */
export const SPAN_HAS_BARS = `
  select exists (select 1 from ktrdr_bars where series_id = $1 and time between $2 and $3) as hit`

/** Rows led by their series id, straight into the bars (pgCopyBinary.encodeBars with an id). */
export const COPY_BARS = `copy ktrdr_bars (series_id, time, open, high, low, close, volume) from stdin (format binary)`

/** `write`'s rows, extras included (pgCopyBinary.encodeRows). */
export const COPY_ROWS =
  `copy ktrdr_bars (series_id, time, open, high, low, close, volume, extras) from stdin (format binary)`

/** After a COPY of only new bars: counts, bounds and version moved by what the client knows it added. */
export const APPENDED = `
  update ktrdr_series set bar_count = bar_count + $2, missing = missing + $3,
    first_time = least(first_time, $4), last_time = greatest(last_time, $5), version = nextval('ktrdr_version_seq')
  where id = $1
  returning bar_count, first_time, last_time`

/**
 * A segment that meets stored bars goes through this connection's staging table: temporary (no WAL, invisible to
 * others) and emptied at commit, created on a connection's first such merge.
 */
export const STAGE = `
  create temp table if not exists ktrdr_stage (
    time bigint not null, open float8 not null, high float8 not null, low float8 not null, close float8 not null,
    volume float8 not null
  ) on commit delete rows`

export const COPY_STAGE = `copy ktrdr_stage from stdin (format binary)`

/**
 * The staged segment merged in one statement ($1 series id, $2 overwrite, [$3, $4] the segment's span, which bounds
 * every probe of the stored bars to the key range): equal timestamps replaced when $2 and different — a replaced row
 * keeps its extras — new ones inserted without extras, and the series row's counts, bounds and version updated from
 * what changed. The series row is locked (LOCK_SERIES), so no other writer can add these keys meanwhile; every
 * sub-statement sees the same snapshot, so `old` is the state before.
 */
export const MERGE_STAGE = `
  with old as (
    select b.time, ${MISSING("b")} as missing
    from ktrdr_stage s join ktrdr_bars b on b.series_id = $1 and b.time = s.time
    where b.time between $3 and $4
  ),
  upd as (
    update ktrdr_bars b set open = s.open, high = s.high, low = s.low, close = s.close, volume = s.volume
    from ktrdr_stage s
    where $2 and b.series_id = $1 and b.time = s.time and b.time between $3 and $4
      and (b.open, b.high, b.low, b.close, b.volume) is distinct from (s.open, s.high, s.low, s.close, s.volume)
    returning b.time, ${MISSING("b")} as missing
  ),
  ins as (
    insert into ktrdr_bars (series_id, time, open, high, low, close, volume)
    select $1, s.time, s.open, s.high, s.low, s.close, s.volume from ktrdr_stage s
    where not exists (select 1 from old where old.time = s.time)
    returning time, ${MISSING("ktrdr_bars")} as missing
  ),
  delta as (
    select (select count(*) from ins) as added,
      (select count(*) from ins) + (select count(*) from upd) as changed,
      coalesce((select sum(missing::int) from ins), 0)
        + coalesce((select sum(u.missing::int - o.missing::int) from upd u join old o on o.time = u.time), 0)
        as missing,
      (select min(time) from ins) as first,
      (select max(time) from ins) as last,
      (select count(*) from old) as hits
  )
  update ktrdr_series s set
    bar_count = s.bar_count + d.added,
    missing = s.missing + d.missing,
    first_time = least(s.first_time, d.first),
    last_time = greatest(s.last_time, d.last),
    version = case when d.changed > 0 then nextval('ktrdr_version_seq') else s.version end
  from delta d where s.id = $1
  returning s.bar_count, s.first_time, s.last_time, d.added, d.hits`

export const DELETE_BARS = `delete from ktrdr_bars where series_id = $1`

export const SET_SERIES = `
  update ktrdr_series set extra_columns = $2::text[], bar_count = $3, missing = $4, first_time = $5,
    last_time = $6, version = nextval('ktrdr_version_seq')
  where id = $1`

const READ_SNAPSHOT_TEXT = `set transaction isolation level repeatable read, read only`

/**
 * For this transaction only: these statements are big but simple, and PostgreSQL's JIT (on by default when built
 * with LLVM, as Debian's is) spent ~0.8 s compiling each segment's upsert or read chunk to save nothing.
 */
export const NO_JIT = `set local jit = off`

/**
 * A read's start, in one round trip: the snapshot's isolation and no JIT (simple protocol, so two statements).
 */
export const READ_BEGIN = `${READ_SNAPSHOT_TEXT}; set local jit = off`

/**
 * The series row of a read ($1, $2) with its id and the inclusive bounds ($3, $4, text: set_config takes text) set
 * for readQuery, in one round trip.
 */
export const READ_META = `
  select id, extra_columns, bar_count, missing, first_time, last_time, version,
    set_config('ktrdr.series', id::text, true), set_config('ktrdr.lo', $3, true), set_config('ktrdr.hi', $4, true)
  from ktrdr_series where series = $1 and timeframe = $2`

/** The rows of one read in time order, on the key (current_setting is stable: its values are index bounds). */
export const readQuery = (withExtras: boolean): string => `
  select time, open, high, low, close, volume${withExtras ? ", extras" : ""} from ktrdr_bars
  where series_id = current_setting('ktrdr.series')::int
    and time >= current_setting('ktrdr.lo')::bigint and time <= current_setting('ktrdr.hi')::bigint
  order by time`

export const readCopy = (withExtras: boolean): string => `copy (${readQuery(withExtras)}) to stdout (format binary)`

const quoteElement = (s: string) => `"${s.replace(/[\\"]/g, "\\$&")}"`

export const textArray = (xs: ReadonlyArray<string>): string => `{${xs.map(quoteElement).join(",")}}`
