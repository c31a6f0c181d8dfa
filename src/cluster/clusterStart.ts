/**
 * Runners start one at a time: the cluster creates its tables through its own migrator on first start, and two
 * runners migrating at once collide (seen: the second died with an SqlError). A session advisory lock held on a
 * reserved connection while the cluster layer builds serialises them; it is released as soon as the layer is up.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Exit, Layer, Scope } from "effect"

/** Any constant, distinct from the bar store's (7_316_016) and the operations table's (7_316_017) migration locks. */
const START_LOCK = 7_316_018

export const startOneAtATime = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.scopedContext(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const held = yield* Scope.make()
    return yield* Effect.gen(function*() {
      const conn = yield* Scope.extend(sql.reserve, held)
      yield* conn.execute("select pg_advisory_lock($1)", [START_LOCK], undefined)
      // Before the connection goes back to the pool: a session lock would outlive us on it.
      yield* Scope.addFinalizer(
        held,
        conn.execute("select pg_advisory_unlock($1)", [START_LOCK], undefined).pipe(Effect.ignore)
      )
      return yield* Layer.build(layer)
    }).pipe(Effect.ensuring(Scope.close(held, Exit.void)))
  }))
