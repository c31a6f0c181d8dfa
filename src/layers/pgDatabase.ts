/**
 * The PostgreSQL connection pool of a process, checked and migrated before anything uses it: unreachable → one
 * DatabaseError naming host, port and database (never the password); a schema migrated by newer code → refused;
 * otherwise the pending migrations run (concurrent starters serialise on the migrations table's lock).
 */
import { Migrator, SqlClient } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Redacted, Schema } from "effect"
import pg from "pg"
import { describeDatabase } from "./DatabaseConfig.ts"
import { KNOWN_SCHEMA, MIGRATIONS } from "./pgMigrations.ts"

/** The database cannot be used: unreachable, refused us, or holds a schema this code does not know. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  database: Schema.String,
  reason: Schema.Literal("unreachable", "schema-too-new", "migration-failed"),
  message: Schema.String
}) {}

const INT8 = 20

/** Any constant: the advisory lock key of schema migrations. */
const MIGRATION_LOCK = 7_316_016

const MIGRATIONS_TABLE = "effect_sql_migrations"

/** The driver's own words, one line, with any URL in them (and so any password) cut out. */
export const causeText = (cause: unknown): string => {
  const c = cause as { code?: unknown; message?: unknown; errors?: ReadonlyArray<{ message?: unknown }> } | undefined
  const first = c?.errors?.[0]?.message
  const raw = typeof c?.message === "string" && c.message !== "" ? c.message : typeof first === "string" ? first : ""
  const text = raw.replace(/postgres(ql)?:\/\/\S*/g, "<url>").split("\n")[0] ?? ""
  return text === "" ? String(typeof c?.code === "string" ? c.code : "unknown error") : text
}

const unreachable = (where: string) => (e: { readonly cause?: unknown; readonly message: string }) =>
  new DatabaseError({
    database: where,
    reason: "unreachable",
    message: `cannot use the PostgreSQL database ${where} (${
      causeText(e.cause ?? e)
    }): check KTRDR_DATABASE_URL and that the server is running`
  })

/** Refuses a database migrated past what this code knows, then runs the pending migrations. */
const migrate = (where: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // One starter at a time (the lock ends with this transaction): the migrator creates its table outside its own
    // transaction, and two processes creating it together collide. Its own transaction nests as a savepoint here.
    yield* sql.unsafe(`select pg_advisory_xact_lock(${MIGRATION_LOCK})`)
    yield* sql.unsafe(`create table if not exists ${MIGRATIONS_TABLE} (
      migration_id integer primary key,
      created_at timestamp with time zone not null default now(),
      name text not null
    )`)
    const [row] = yield* sql.unsafe<{ readonly latest: number | null }>(
      `select max(migration_id) as latest from ${MIGRATIONS_TABLE}`
    )
    const latest = row?.latest ?? 0
    if (latest > KNOWN_SCHEMA) {
      return yield* new DatabaseError({
        database: where,
        reason: "schema-too-new",
        message: `the PostgreSQL database ${where} has schema version ${latest}, newer than this ktrdr knows ` +
          `(${KNOWN_SCHEMA}): it was migrated by a newer ktrdr; upgrade this one (refusing to start)`
      })
    }
    yield* Migrator.make({})({ loader: Migrator.fromRecord(MIGRATIONS), table: MIGRATIONS_TABLE }).pipe(
      Effect.catchTag("MigrationError", (e) =>
        new DatabaseError({
          database: where,
          reason: "migration-failed",
          message: `cannot migrate the PostgreSQL database ${where}: ${e.message}`
        }))
    )
  }).pipe(
    (self) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.withTransaction(self)),
    Effect.catchTag("SqlError", unreachable(where))
  )

export interface PgOptions {
  readonly connectTimeout?: Duration.DurationInput
  readonly maxConnections?: number
  /** PostgreSQL's application_name of the pool's connections (pg_stat_activity); default "ktrdr". */
  readonly applicationName?: string
  /**
   * Keep bigint columns as strings, as the driver gives them. Default false: our own bigints (epoch ms, counts) are
   * read as numbers. A pool shared with @effect/cluster must keep them strings: its snowflake ids exceed 2^53.
   */
  readonly bigintAsString?: boolean
}

/** PgClient (and SqlClient) on `url`, reachable and migrated; fails with DatabaseError. */
export const pgDatabase = (url: Redacted.Redacted<string>, options: PgOptions = {}) => {
  const where = describeDatabase(Redacted.value(url))
  const client = PgClient.layer({
    url,
    applicationName: options.applicationName ?? "ktrdr",
    connectTimeout: options.connectTimeout ?? Duration.seconds(10),
    maxConnections: options.maxConnections ?? 10,
    // bigint and numeric columns as JS numbers: times are epoch ms (< 2^53), counts small
    ...(options.bigintAsString === true ? {} : {
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") =>
          oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser
      }
    })
  }).pipe(Layer.mapError(unreachable(where)))
  return Layer.effectDiscard(migrate(where)).pipe(Layer.provideMerge(client))
}
