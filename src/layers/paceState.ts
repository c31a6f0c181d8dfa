/**
 * PaceGate's memory across restarts of this process. The gateway remembers our requests for 10 minutes
 * whether we restart or not: without this file, a restarted server would re-send the segment it was
 * fetching (identical within 15 s) or another 60 requests into a window that already holds 60.
 *
 * The gate writes the file before every request it lets out (write-ahead: a crash cannot lose a request
 * that reached the gateway) and again when the answer comes. A request without an answer in the file was
 * in flight when its process ended; its socket closed with the process, so it reached the gateway before
 * we read the file, if at all — that instant bounds it.
 */
import { constants } from "node:fs"
import { access, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import { Effect, Either, Schema } from "effect"
import type { PaceEntry } from "../domain/PacingRules.ts"

const StoredEntry = Schema.Struct({
  identity: Schema.String,
  contract: Schema.String,
  weight: Schema.Literal(1, 2),
  small: Schema.Boolean,
  /** Epoch ms we sent it. */
  t: Schema.Number,
  /** Epoch ms its answer came, null while (or if never) answered. */
  until: Schema.NullOr(Schema.Number)
})

const StateFile = Schema.parseJson(Schema.Struct({
  version: Schema.Literal(1),
  entries: Schema.Array(StoredEntry)
}))

export interface StoredPaceEntry extends Omit<PaceEntry, "until"> {
  readonly until: number | null
}

/** What the file said: its entries, or why it cannot be trusted. */
export type LoadedState =
  | { readonly _tag: "Loaded"; readonly entries: ReadonlyArray<PaceEntry> }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Unreadable"; readonly reason: string }

/** The stored text read at `now`: entries never answered are bounded by `now` (their process, and socket, are gone). */
export const decodePaceState = (text: string, now: number): LoadedState =>
  Either.match(Schema.decodeUnknownEither(StateFile)(text), {
    onLeft: (e): LoadedState => ({ _tag: "Unreadable", reason: e.message }),
    onRight: (s): LoadedState => ({
      _tag: "Loaded",
      entries: s.entries.map(({ until, ...e }) => ({ ...e, until: Math.min(until ?? now, now) }))
    })
  })

/** The text a store keeps (the file's, or a database row's). */
export const encodePaceState = (entries: ReadonlyArray<StoredPaceEntry>): string =>
  Schema.encodeSync(StateFile)({ version: 1, entries: entries.map(toStored) })

/** Reads the file; entries never answered are bounded by `now` (their process, and socket, are gone). */
export const loadPaceState = (file: string, now: number): Effect.Effect<LoadedState> =>
  Effect.tryPromise(() => readFile(file, "utf8")).pipe(
    Effect.map((text) => decodePaceState(text, now)),
    Effect.catchAll((e) => {
      const code = (e.error as NodeJS.ErrnoException | undefined)?.code
      return Effect.succeed<LoadedState>(
        code === "ENOENT" ? { _tag: "Missing" } : { _tag: "Unreadable", reason: String(e.error) }
      )
    })
  )

/** Replaces the file atomically (temp + rename); fails with the reason when it cannot. */
export const savePaceState = (file: string, entries: ReadonlyArray<StoredPaceEntry>): Effect.Effect<void, string> =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(dirname(file), { recursive: true })
      const tmp = `${file}.${process.pid}.tmp`
      await writeFile(tmp, encodePaceState(entries), "utf8")
      await rename(tmp, file)
    },
    catch: (e) => String(e)
  })

const toStored = (e: StoredPaceEntry): typeof StoredEntry.Type => ({
  identity: e.identity,
  contract: e.contract,
  weight: e.weight,
  small: e.small,
  t: e.t,
  until: e.until
})

/** The file for one gateway: pacing is the gateway's, so two gateways never share one. */
export const paceStateFileName = (host: string, port: number): string =>
  `.ib_pacing_${host.replace(/[^A-Za-z0-9.-]/g, "_")}_${port}.json`

/**
 * Could the file be written (its directory, or the nearest one that exists, is writable)? Asked instead
 * of writing, so a process that never sends a paced request leaves the data dir as it found it.
 */
export const canWrite = (file: string): Effect.Effect<boolean> =>
  Effect.promise(async () => {
    let dir = dirname(file)
    for (;;) {
      const isDir = await stat(dir).then((s) => s.isDirectory(), () => undefined)
      if (isDir === false) return false
      if (isDir === true) return access(dir, constants.W_OK).then(() => true, () => false)
      const parent = dirname(dir)
      if (parent === dir) return false
      dir = parent
    }
  })

export interface PaceStore {
  /** What the last process sent, each bounded (`until`) by its answer, or by now. */
  readonly entries: ReadonlyArray<PaceEntry>
  /**
   * Can we know what this gateway saw from us? Yes with a readable file, and with no file in a writable
   * directory (the file is written before any request goes out, so it would be there). Not with a file we
   * cannot read, nor where we cannot write one.
   */
  readonly trusted: boolean
  /** Replaces the file; trouble is logged (once), never raised: pacing goes on without it. */
  readonly save: (entries: ReadonlyArray<StoredPaceEntry>) => Effect.Effect<void>
}

/** Opens the state file at `now`. It is first written when a request goes out: a process sending none leaves none. */
export const openPaceStore = (file: string, now: number): Effect.Effect<PaceStore> =>
  Effect.gen(function*() {
    const loaded = yield* loadPaceState(file, now)
    const trusted = loaded._tag === "Loaded" || (loaded._tag === "Missing" && (yield* canWrite(file)))
    if (!trusted) {
      const why = loaded._tag === "Unreadable" ? loaded.reason : "its directory is not writable"
      yield* Effect.logWarning(`IB pacing history ${file} unusable (${why}): small-bar requests wait one window`)
    }
    // One warning, not one per request, when the data dir is read-only.
    let warned = false
    const save = (entries: ReadonlyArray<StoredPaceEntry>) =>
      savePaceState(file, entries).pipe(
        Effect.catchAll((reason) => {
          if (warned) return Effect.void
          warned = true
          return Effect.logWarning(
            `cannot keep IB pacing history in ${file} (${reason}): a restart within 10 minutes may break IB's pacing`
          )
        })
      )
    return { entries: loaded._tag === "Loaded" ? loaded.entries : [], trusted, save }
  })
