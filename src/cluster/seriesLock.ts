/**
 * One load per series, cluster-wide: a PostgreSQL advisory lock on a connection reserved for the load. The lock dies
 * with that connection, so a runner that is killed mid-load frees its series at once, and the resumed load (on
 * another runner) takes it again. Asked with try-lock every quarter second rather than a blocking lock, so a waiting
 * load stays interruptible (cancel, shutdown).
 *
 * The connections come from a pool of their own: a runner with many loads must not starve the cluster's message
 * storage, whose pool they would otherwise hold one connection each of.
 */
import type { SqlClient } from "@effect/sql"
import { Context, Effect, Schedule } from "effect"

/** The pool series locks hold their connections from. */
export class SeriesLockPool extends Context.Tag("ktrdr/SeriesLockPool")<SeriesLockPool, SqlClient.SqlClient>() {}

const POLL = Schedule.spaced("250 millis")

export const withSeriesLock = <A, E, R>(series: string, use: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.gen(function*() {
    const sql = yield* SeriesLockPool
    const conn = yield* sql.reserve
    const key = `ktrdr-load:${series}`
    const take = Effect.flatMap(
      conn.execute("select pg_try_advisory_lock(hashtext($1)) as ok", [key], undefined),
      (rows) => (rows[0] as { ok?: boolean } | undefined)?.ok === true ? Effect.void : Effect.fail("busy" as const)
    )
    yield* Effect.retry(take, { schedule: POLL, while: (e) => e === "busy" })
    yield* Effect.addFinalizer(() =>
      conn.execute("select pg_advisory_unlock(hashtext($1))", [key], undefined).pipe(Effect.ignore)
    )
    return yield* use
  }))
