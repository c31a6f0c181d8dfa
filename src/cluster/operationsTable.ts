/**
 * The cluster's operations, one row per load in PostgreSQL, so any runner lists, reads, streams, cancels and retries
 * any load, and a restart of every runner loses none. The row holds the request, KTRDR's OperationInfo as the API
 * shows it, the outcome (the LoadResult, or the typed error encoded), and a cancel request that the runner executing
 * the load watches. Its own migrations table, so it never races the bar store's schema numbering.
 */
import { Migrator, SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Schema } from "effect"
import { IbError } from "../domain/errors.ts"
import { CorruptData, InvalidInput, NotFound, StorageError } from "../domain/dataErrors.ts"
import { UnknownSymbol } from "../domain/Instrument.ts"
import type { LoadRequest } from "../domain/loadTypes.ts"
import { OperationInfo, type Retention } from "../domain/operation.ts"

export const LoadErrorSchema = Schema.Union(InvalidInput, UnknownSymbol, IbError, NotFound, CorruptData, StorageError)

export const LoadRequestSchema = Schema.Struct({
  symbol: Schema.String,
  timeframe: Schema.String,
  mode: Schema.Literal("local", "tail", "backfill", "full"),
  start: Schema.optional(Schema.Number),
  end: Schema.optional(Schema.Number),
  waitForGateway: Schema.optional(Schema.Boolean)
})

/** How a load ended, as stored: its result (JSON of our own LoadResult), its typed error, or a cancel. */
export const Outcome = Schema.Union(
  Schema.Struct({ _tag: Schema.Literal("done"), result: Schema.Unknown }),
  Schema.Struct({ _tag: Schema.Literal("failed"), error: LoadErrorSchema }),
  Schema.Struct({ _tag: Schema.Literal("cancelled"), reason: Schema.String })
)
export type Outcome = typeof Outcome.Type

export interface OperationRow {
  readonly id: string
  readonly request: LoadRequest
  readonly parameters: Record<string, unknown>
  readonly info: OperationInfo
  readonly cancelReason: string | null
  readonly startedMs: number | null
  readonly outcome: Outcome | null
}

const v1 = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    create table ktrdr_operations (
      id text primary key,
      request jsonb not null,
      parameters jsonb not null,
      info jsonb not null,
      status text not null,
      cancel_reason text,
      started_ms bigint,
      outcome jsonb,
      created_ms bigint not null,
      updated_ms bigint not null
    )`)
  yield* sql.unsafe(`create index ktrdr_operations_created on ktrdr_operations (created_ms desc)`)
})

/** A gateway's pacing history (pgPaceStore.ts), kept across owners. */
const v2 = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    create table ktrdr_pace_state (
      gateway text primary key,
      state text not null,
      updated_ms bigint not null
    )`)
})

/** Serialised with the bar store's migration lock key + 1, for the same reason (concurrent starters). */
const LOCK = 7_316_017

export const migrateOperations = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql.unsafe(`select pg_advisory_xact_lock(${LOCK})`)
    yield* sql.unsafe(`create table if not exists ktrdr_cluster_migrations (
      migration_id integer primary key,
      created_at timestamp with time zone not null default now(),
      name text not null
    )`)
    yield* Migrator.make({})({
      loader: Migrator.fromRecord({ "1_operations": v1, "2_pace_state": v2 }),
      table: "ktrdr_cluster_migrations"
    })
  }))
})

const decodeInfo = Schema.decodeUnknown(OperationInfo)
const decodeRequest = Schema.decodeUnknown(LoadRequestSchema)
const decodeOutcome = Schema.decodeUnknown(Outcome)
const encodeOutcome = Schema.encode(Outcome)

interface RawRow {
  readonly id: string
  readonly request: unknown
  readonly parameters: unknown
  readonly info: unknown
  readonly cancel_reason: string | null
  readonly started_ms: number | string | null
  readonly outcome: unknown
}

const fromRaw = (r: RawRow) =>
  Effect.gen(function*() {
    return {
      id: r.id,
      request: yield* decodeRequest(r.request),
      parameters: (r.parameters ?? {}) as Record<string, unknown>,
      info: yield* decodeInfo(r.info),
      cancelReason: r.cancel_reason,
      startedMs: r.started_ms === null ? null : Number(r.started_ms),
      outcome: r.outcome === null ? null : yield* decodeOutcome(r.outcome)
    } satisfies OperationRow
  }).pipe(Effect.orDie) // a row this code cannot read was not written by it: a defect, not a user error

const COLUMNS = "id, request, parameters, info, cancel_reason, started_ms, outcome"

export const makeOperationsTable = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const json = (v: unknown) => JSON.stringify(v)
  const now = () => Date.now()
  return {
    insert: (id: string, request: LoadRequest, parameters: Record<string, unknown>, info: OperationInfo) =>
      sql`insert into ktrdr_operations (id, request, parameters, info, status, created_ms, updated_ms)
          values (${id}, ${json(request)}::jsonb, ${json(parameters)}::jsonb, ${json(info)}::jsonb, ${info.status},
                  ${now()}, ${now()})`.pipe(Effect.asVoid),
    get: (id: string) =>
      Effect.flatMap(
        sql.unsafe<RawRow>(`select ${COLUMNS} from ktrdr_operations where id = $1`, [id]),
        (rows) => rows.length === 0 ? Effect.succeed(null) : fromRaw(rows[0]!)
      ),
    /**
     * One page of a listing, newest first, filtered in the database: the rows, how many match, and how many are
     * pending or running over all.
     */
    page: (
      q: {
        readonly status?: string | undefined
        readonly activeOnly: boolean
        readonly limit: number
        readonly offset: number
      }
    ) =>
      Effect.gen(function*() {
        const where = `($1::text is null or status = $1) and (not $2 or status in ('pending', 'running'))`
        const params = [q.status ?? null, q.activeOnly]
        const [counts] = yield* sql.unsafe<{ readonly total: string | number; readonly active: string | number }>(
          `select count(*) filter (where ${where}) as total,
                  count(*) filter (where status in ('pending', 'running')) as active
           from ktrdr_operations`,
          params
        )
        const rows = yield* sql.unsafe<RawRow>(
          `select ${COLUMNS} from ktrdr_operations where ${where}
           order by created_ms desc, id limit $3 offset $4`,
          [...params, q.limit, q.offset]
        )
        return {
          rows: yield* Effect.forEach(rows, fromRaw),
          total: Number(counts?.total ?? 0),
          active: Number(counts?.active ?? 0)
        }
      }),
    setInfo: (id: string, info: OperationInfo, startedMs?: number) =>
      sql.unsafe(
        `update ktrdr_operations set info = $2::jsonb, status = $3, updated_ms = $4,
           started_ms = coalesce(started_ms, $5) where id = $1`,
        [id, json(info), info.status, now(), startedMs ?? null]
      ).pipe(Effect.asVoid),
    finish: (id: string, info: OperationInfo, outcome: Outcome) =>
      Effect.flatMap(encodeOutcome(outcome).pipe(Effect.orDie), (o) =>
        sql.unsafe(
          `update ktrdr_operations set info = $2::jsonb, status = $3, outcome = $4::jsonb, updated_ms = $5
           where id = $1`,
          [id, json(info), info.status, json(o), now()]
        )).pipe(Effect.asVoid),
    /** Records the first cancel request; false when the row is already terminal or unknown. */
    requestCancel: (id: string, reason: string) =>
      Effect.map(
        sql.unsafe<{ readonly id: string }>(
          `update ktrdr_operations set cancel_reason = coalesce(cancel_reason, $2), updated_ms = $3
           where id = $1 and status in ('pending', 'running') returning id`,
          [id, reason, now()]
        ),
        (rows) => rows.length > 0
      ),
    /**
     * Forgets finished operations as the in-process registry does (domain/operation.ts `expiredIds`): those that
     * ended more than `ttlMs` ago, then the oldest beyond `maxTerminal`; pending and running ones are never dropped.
     * A finished row's `updated_ms` is when it ended (nothing updates it after). Returns the ids that went.
     */
    prune: (nowMs: number, retention: Retention) =>
      Effect.map(
        sql.unsafe<{ readonly id: string }>(
          `delete from ktrdr_operations where id in (
             select id from (
               select id, updated_ms, row_number() over (order by updated_ms desc, id) as k
               from ktrdr_operations where status not in ('pending', 'running')
             ) finished
             where $1 - updated_ms > $2 or k > $3
           ) returning id`,
          [nowMs, retention.ttlMs, retention.maxTerminal]
        ),
        (rows): ReadonlyArray<string> => rows.map((r) => r.id)
      ),
    cancelReason: (id: string) =>
      Effect.map(
        sql.unsafe<{ readonly cancel_reason: string | null }>(
          `select cancel_reason from ktrdr_operations where id = $1`,
          [id]
        ),
        (rows) => rows[0]?.cancel_reason ?? null
      )
  }
})

export class OperationsTable extends Context.Tag("ktrdr/OperationsTable")<
  OperationsTable,
  Effect.Effect.Success<typeof makeOperationsTable>
>() {
  /** Migrated before use; needs the process's SqlClient. */
  static readonly layer = Layer.effect(OperationsTable, Effect.zipRight(migrateOperations, makeOperationsTable))
}
