/**
 * COPY FROM STDIN / TO STDOUT on the connection of the current @effect/sql transaction, so a COPY is one more step of
 * the same transaction as the statements around it (same snapshot, same commit or rollback).
 *
 * @effect/sql-pg keeps the transaction's node-postgres client on its Connection object (`pg`, a public field of its
 * ConnectionImpl, not part of the Connection interface): read it with a runtime check, so a version that stops
 * carrying it fails loudly here instead of running a COPY outside the transaction. The pool still owns the client:
 * the transaction's scope releases it, with the error when the connection failed, so a dead one is discarded.
 */
import { SqlClient, SqlError } from "@effect/sql"
import { Effect, Option } from "effect"
import pg from "pg"
import { from as copyFrom, to as copyTo } from "pg-copy-streams"

/** The node-postgres client of the transaction this effect runs in. */
export const transactionClient: Effect.Effect<pg.ClientBase> = Effect.flatMap(
  Effect.serviceOption(SqlClient.TransactionConnection),
  (tx) => {
    const client = Option.isSome(tx) ? (tx.value[0] as { readonly pg?: unknown }).pg : undefined
    return client instanceof pg.Client
      ? Effect.succeed(client)
      : Effect.dieMessage("COPY needs an @effect/sql-pg transaction connection carrying its node-postgres client")
  }
)

const failed = (cause: unknown) => new SqlError.SqlError({ cause, message: "Failed to execute COPY" })

/**
 * `COPY … FROM STDIN` fed with `chunks`. Interrupted, it aborts the COPY (CopyFail, which the server answers
 * with an error) and waits for that, so the connection is back in step before the transaction rolls back.
 */
export const copyIn = (text: string, chunks: Iterable<Buffer>): Effect.Effect<number, SqlError.SqlError> =>
  Effect.flatMap(transactionClient, (client) =>
    Effect.async<number, SqlError.SqlError>((resume) => {
      const stream = client.query(copyFrom(text))
      let settled = false
      stream.on("error", (e) => {
        settled = true
        resume(Effect.fail(failed(e)))
      })
      stream.on("finish", () => {
        settled = true
        resume(Effect.succeed(stream.rowCount))
      })
      const it = chunks[Symbol.iterator]()
      // write with backpressure: the next chunk is produced only when the socket took the previous one
      const pump = (): void => {
        for (;;) {
          const next = it.next()
          if (next.done) {
            stream.end()
            return
          }
          if (!stream.write(next.value)) {
            stream.once("drain", pump)
            return
          }
        }
      }
      pump()
      return Effect.async<void>((done) => {
        if (settled) return done(Effect.void)
        stream.once("close", () => done(Effect.void))
        stream.destroy(new Error("COPY interrupted"))
      })
    }))

/**
 * `COPY … TO STDOUT`, each chunk handed to `onChunk` as it arrives (an exception there fails the effect).
 * Interrupted, it keeps reading to the end without decoding: the server's answer must be consumed before the
 * connection can take the ROLLBACK.
 */
export const copyOut = (text: string, onChunk: (chunk: Buffer) => void): Effect.Effect<number, SqlError.SqlError> =>
  Effect.flatMap(transactionClient, (client) =>
    Effect.async<number, SqlError.SqlError>((resume) => {
      const stream = client.query(copyTo(text))
      let discard = false, settled = false, error: unknown
      const finished: Array<() => void> = []
      const settle = () => {
        settled = true
        for (const f of finished) f()
      }
      stream.on("data", (chunk: Buffer) => {
        if (discard || error !== undefined) return
        try {
          onChunk(chunk)
        } catch (e) {
          error = e
        }
      })
      stream.on("error", (e) => {
        settle()
        resume(Effect.fail(failed(e)))
      })
      stream.on("end", () => {
        settle()
        resume(error === undefined ? Effect.succeed(stream.rowCount) : Effect.fail(failed(error)))
      })
      return Effect.async<void>((done) => {
        discard = true
        if (settled) return done(Effect.void)
        finished.push(() => done(Effect.void))
      })
    }))
