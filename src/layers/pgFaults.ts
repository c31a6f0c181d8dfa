/**
 * Which PostgreSQL failures mean "the connection went away" rather than "the statement was refused", and the one
 * retry the store gives them. After connections are cut (a server restart, pg_terminate_backend, a proxy timing
 * out), node-postgres can hand out a pooled client before it has noticed that client's socket died: the first query
 * on it fails although the database is fine. Retrying once on a fresh connection hides that from a reader; a real
 * outage fails the retry too, and the caller's own schedule (a load's) takes over.
 *
 * Retrying a whole merge transaction is safe: it either never committed, or — the connection lost exactly after
 * COMMIT reached the server — it committed, and merging the same bars again changes nothing.
 */
import type { SqlError } from "@effect/sql"
import { Effect, Option, Schedule } from "effect"

export const isSqlError = (u: unknown): u is SqlError.SqlError =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlError"

/** SQLSTATE classes and codes of a lost or refused connection: 08 (connection exception), 57P01–57P03 (shutdown). */
const LOST_STATES = /^(08...|57P0[123])$/

/** Socket errors and node-postgres' own words for a connection that died under it. */
const LOST_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT", "ENOTCONN"])
const LOST_TEXT = /Connection terminated|not queryable|terminating connection|server closed the connection/i

export const connectionLost = (e: SqlError.SqlError): boolean => {
  for (let cause: unknown = e.cause, depth = 0; cause != null && depth < 4; depth++) {
    const c = cause as { code?: unknown; message?: unknown; cause?: unknown }
    if (typeof c.code === "string" && (LOST_STATES.test(c.code) || LOST_CODES.has(c.code))) return true
    if (typeof c.message === "string" && LOST_TEXT.test(c.message)) return true
    cause = c.cause
  }
  return false
}

/** Time for the pool to process the dead sockets' events, so the retry gets a live connection or a new one. */
const ONCE = Schedule.spaced("25 millis")

/**
 * Runs `body` again once when it failed because its connection was lost — also when @effect/sql turned that into a
 * defect (the ROLLBACK on a dead connection fails too) — then hands the SqlError to `mapError`.
 */
export const retryLostOnce = <A, E, R, E2>(
  body: Effect.Effect<A, E | SqlError.SqlError, R>,
  mapError: (e: SqlError.SqlError) => E2
): Effect.Effect<A, Exclude<E, SqlError.SqlError> | E2, R> =>
  body.pipe(
    Effect.catchSomeDefect((d) => (isSqlError(d) ? Option.some(Effect.fail(d)) : Option.none())),
    Effect.retry({ schedule: ONCE, times: 1, while: (e) => isSqlError(e) && connectionLost(e) }),
    Effect.catchIf(isSqlError, (e) => Effect.fail(mapError(e)))
  ) as Effect.Effect<A, Exclude<E, SqlError.SqlError> | E2, R>
