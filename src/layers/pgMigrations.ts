/**
 * The PostgreSQL schema, as @effect/sql migrations (table `effect_sql_migrations`). Append new ids; never edit one
 * that has shipped. A database that has run an id this list does not know was migrated by newer code, and this
 * code refuses to use it (pgDatabase.ts).
 *
 * Bars are keyed by (series_id, time): `ktrdr_series` maps (series, timeframe) to a small integer, so the bar key is
 * 12 bytes instead of repeating two strings a million times, and holds what reads want without touching bars —
 * first/last, the count, missing-price rows, the version token and the extra column names. Extras stay verbatim as
 * one text[] per row (NULL when the series has none or the row was added without them): KTRDR frames rarely carry
 * extras, and a per-row array keeps them beside their bar so a replaced row keeps its own.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

const v1 = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    create table ktrdr_series (
      id integer generated always as identity primary key,
      series text not null,
      timeframe text not null,
      extra_columns text[] not null default '{}',
      bar_count bigint not null default 0,
      missing bigint not null default 0,
      first_time bigint,
      last_time bigint,
      version bigint not null default 0,
      unique (series, timeframe)
    )`)
  yield* sql.unsafe(`create sequence ktrdr_version_seq`)
  // float8 keeps every JS double exactly, NaN included (a missing price; an absent volume). No foreign key to
  // ktrdr_series: series rows are never deleted, and its per-row check cost more than half of a segment's upsert.
  yield* sql.unsafe(`
    create table ktrdr_bars (
      series_id integer not null,
      time bigint not null,
      open float8 not null,
      high float8 not null,
      low float8 not null,
      close float8 not null,
      volume float8 not null,
      extras text[],
      primary key (series_id, time)
    )`)
  yield* sql.unsafe(`
    create table ktrdr_symbol_cache (
      id boolean primary key default true check (id),
      document text not null,
      version bigint not null
    )`)
})

/** id → migration; the highest id is the schema version this code understands. */
export const MIGRATIONS = { "1_bars_and_symbol_cache": v1 } as const

export const KNOWN_SCHEMA = 1
