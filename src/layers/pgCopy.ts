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
import { from as copyFrom } from "pg-copy-streams"
import { type CopySink, CopyOutQuery } from "./pgCopyOut.ts"

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
 * `COPY … TO STDOUT`, every CopyData payload handed to `sink` as it arrives (pgCopyOut.ts; an exception there fails
 * the effect once the server is done). Interrupted, it goes on reading to the end without handing anything on: the
 * server's answer must be consumed before the connection can take the ROLLBACK.
 */
export const copyOut = (text: string, sink: CopySink): Effect.Effect<number, SqlError.SqlError> =>
  Effect.flatMap(transactionClient, (client) =>
    Effect.async<number, SqlError.SqlError>((resume) => {
      let discard = false, settled = false
      const waiting: Array<() => void> = []
      const query = new CopyOutQuery(text, {
        feed: (buf, view, start, end) => {
          if (!discard) sink.feed(buf, view, start, end)
        },
        messages: (view, p, end) => (discard || sink.messages === undefined ? p : sink.messages(view, p, end))
      }, (error) => {
        settled = true
        for (const f of waiting) f()
        resume(error === undefined ? Effect.succeed(query.rowCount) : Effect.fail(failed(error)))
      })
      client.query(query)
      return Effect.async<void>((done) => {
        discard = true
        if (settled) return done(Effect.void)
        waiting.push(() => done(Effect.void))
      })
    }))
