/**
 * Versions of files asked for during one turn of the event loop, read with one stat per file in the loop's check
 * phase (setImmediate) instead of one per asker.
 *
 * Why: GET /data checks its series file's version on every request, so that a write by any process is seen. A
 * synchronous stat is ~2 µs in a tight loop but ~8 µs between network events, and under load it also slowed the
 * socket writes around it: ~25 µs of a cached answer's ~140 µs of CPU (bench/http-bars). Requests read in the same
 * poll phase now share one stat.
 *
 * Still exact: every asker registers while handling a request that has already arrived, and the stat runs after
 * that, so a write that finished before a request arrived is always seen by it.
 */
import { statSync } from "node:fs"
import { Effect } from "effect"
import { fingerprint } from "./barFiles.ts"

export type StatResult<E> = Effect.Effect<string | undefined, E>

/**
 * `read(file)` is called once per file per loop turn, synchronously; its result (a version string, undefined for a
 * missing file, or a failure) goes to every asker of that turn.
 */
export const statBatcher = <E>(read: (file: string) => StatResult<E>) => {
  let waiting = new Map<string, Array<(r: StatResult<E>) => void>>()
  const flush = () => {
    const turn = waiting
    waiting = new Map()
    for (const [file, askers] of turn) {
      const r = read(file)
      for (const resume of askers) resume(r)
    }
  }
  return (file: string): StatResult<E> =>
    Effect.async<string | undefined, E>((resume) => {
      if (waiting.size === 0) setImmediate(flush)
      const askers = waiting.get(file)
      if (askers === undefined) waiting.set(file, [resume])
      else askers.push(resume)
    })
}

/** A file's version (barFiles.ts `fingerprint`) by a synchronous stat (see statBatcher for when it runs). */
export const statVersion = <E>(file: string, fail: (e: unknown) => E): StatResult<E> => {
  try {
    return Effect.succeed(fingerprint(statSync(file)))
  } catch (e) {
    const code = (e as { code?: string }).code
    return code === "ENOENT" || code === "ENOTDIR" ? Effect.succeed(undefined) : Effect.fail(fail(e))
  }
}
