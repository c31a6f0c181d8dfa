import { writeFileSync } from "node:fs"
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { statBatcher, statVersion } from "../../src/layers/statBatch.ts"

describe("statBatcher", () => {
  it.effect("askers of one loop turn share one stat per file; the next turn stats again and sees a replacement", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-statbatch-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => rm(dir, { recursive: true, force: true })))
      const a = join(dir, "A_1h.csv"), b = join(dir, "B_1h.csv"), missing = join(dir, "C_1h.csv")
      yield* Effect.promise(() => Promise.all([writeFile(a, "a"), writeFile(b, "bb")]))
      const reads: Array<string> = []
      const ask = statBatcher((file) => {
        reads.push(file)
        return statVersion(file, (e) => String(e))
      })
      const first = yield* Effect.all([ask(a), ask(a), ask(b), ask(a), ask(missing)], { concurrency: "unbounded" })
      expect(reads.sort()).toEqual([a, b, missing].sort())
      expect(first[0]).toBe(first[1])
      expect(first[0]).toBe(first[3])
      expect(first[2]).not.toBe(first[0])
      expect(first[4]).toBeUndefined()

      // replaced the way the store replaces files (a rename over it): the next ask stats again
      yield* Effect.promise(() => writeFile(join(dir, "tmp"), "a longer body"))
      yield* Effect.promise(() => rename(join(dir, "tmp"), a))
      reads.length = 0
      const again = yield* ask(a)
      expect(reads).toEqual([a])
      expect(again).not.toBe(first[0])
    }).pipe(Effect.scoped))

  it.effect("a write made after a request arrived but before the turn's stat is seen by every asker of that turn", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-statbatch-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => rm(dir, { recursive: true, force: true })))
      const a = join(dir, "A_1h.csv")
      yield* Effect.promise(() => writeFile(a, "a"))
      const ask = statBatcher((file) => statVersion(file, (e) => String(e)))
      const before = yield* ask(a)
      // the first asker registers, the file changes in the same turn, a second asker registers: one stat, after both
      const [early, late] = yield* Effect.all([
        ask(a),
        Effect.zipRight(Effect.sync(() => writeFileSync(a, "changed in place")), ask(a))
      ], { concurrency: "unbounded" })
      expect(late).not.toBe(before)
      expect(early).toBe(late)
    }).pipe(Effect.scoped))
})
