/**
 * A gateway's pacing history in the cluster's database, so the gate of its next owner knows what the last owner
 * sent: IB remembers our requests for 10 minutes whoever sends them, and a failover must not send 60 more into a
 * window that holds 60, nor repeat the segment that was in flight. Same text and rules as the single process's file
 * (paceState.ts), one row per gateway; written before every request that goes out, as the file is.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { decodePaceState, encodePaceState, type PaceStore, type StoredPaceEntry } from "../layers/paceState.ts"

export const openPgPaceStore =
  (gateway: string) => (now: number): Effect.Effect<PaceStore, never, SqlClient.SqlClient> =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ readonly state: string }>`select state from ktrdr_pace_state where gateway = ${gateway}`
        .pipe(
          Effect.either
        )
      const loaded = rows._tag === "Left"
        ? { _tag: "Unreadable" as const, reason: rows.left.message }
        : rows.right[0] === undefined
        ? { _tag: "Missing" as const }
        : decodePaceState(rows.right[0].state, now)
      // No row yet: none was written, so nothing was sent through the cluster to this gateway.
      const trusted = loaded._tag !== "Unreadable"
      if (!trusted) {
        yield* Effect.logWarning(
          `IB pacing history of ${gateway} unusable (${loaded.reason}): small-bar requests wait one window`
        )
      }
      let warned = false
      const save = (entries: ReadonlyArray<StoredPaceEntry>) =>
        sql`insert into ktrdr_pace_state (gateway, state, updated_ms) values (${gateway}, ${
          encodePaceState(entries)
        }, ${Date.now()})
          on conflict (gateway) do update set state = excluded.state, updated_ms = excluded.updated_ms`.pipe(
          Effect.asVoid,
          Effect.catchAll((e) => {
            if (warned) return Effect.void
            warned = true
            return Effect.logWarning(
              `cannot keep IB pacing history of ${gateway} (${e.message}): a failover may break pacing`
            )
          })
        )
      return { entries: loaded._tag === "Loaded" ? loaded.entries : [], trusted, save }
    })
