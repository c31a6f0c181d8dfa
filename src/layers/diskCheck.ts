/**
 * Preconditions of a load, checked before its first gateway request (issue 11): the data directory can
 * be written, and the disk has room for what the load is expected to write. A load used to download
 * everything and then fail on save.
 */
import { randomBytes } from "node:crypto"
import { mkdir, statfs, unlink, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Effect } from "effect"
import { StorageError } from "../domain/dataErrors.ts"

const reason = (e: unknown): string => {
  const code = (e as { code?: unknown } | null)?.code
  const message = e instanceof Error ? e.message : String(e)
  return typeof code === "string" && !message.includes(code) ? `${code}: ${message}` : message
}

/** Creates the directory if needed and writes (then removes) a probe file: the only test root cannot fool. */
export const checkWritable = (dir: string): Effect.Effect<void, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      await mkdir(dir, { recursive: true })
      const probe = join(dir, `.ktrdr-write-probe-${process.pid}-${randomBytes(4).toString("hex")}`)
      await writeFile(probe, "")
      await unlink(probe)
    },
    catch: (e) =>
      new StorageError({
        file: dir,
        message: `the data directory (KTRDR_DATA_DIR) is not writable (${
          reason(e)
        }); nothing was fetched. Fix its permissions or point KTRDR_DATA_DIR at a writable directory`
      })
  })

/** Bytes available to this process on the directory's file system. */
export const freeBytes = (dir: string): Effect.Effect<number, StorageError> =>
  Effect.tryPromise({
    try: async () => {
      const s = await statfs(dir)
      return Number(s.bavail) * Number(s.bsize)
    },
    catch: (e) =>
      new StorageError({ file: dir, message: `cannot read the free space of the data directory: ${reason(e)}` })
  })

/** A stored CSV row (`2025-01-02T14:30:00Z,123.45,124.00,123.10,123.80,123456`) rounded up, for estimates. */
export const CSV_ROW_BYTES = 64

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`

/** Fails when writing `needBytes` would leave less than `reserveBytes` free. */
export const checkFreeSpace = (
  dir: string,
  needBytes: number,
  reserveBytes: number
): Effect.Effect<void, StorageError> =>
  Effect.flatMap(freeBytes(dir), (free) =>
    free - needBytes >= reserveBytes ? Effect.void : Effect.fail(
      new StorageError({
        file: dir,
        message:
          `not enough free disk for this load: it may write about ${mb(needBytes)}, ${
            mb(free)
          } are free and KTRDR_MIN_FREE_BYTES keeps ${mb(reserveBytes)} free; nothing was fetched. ` +
          "Free some space, narrow the range (--start/--end) or lower KTRDR_MIN_FREE_BYTES"
      })
    ))
