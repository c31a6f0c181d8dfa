/** Shared by the contract suites: a server over KTRDR's real files, decoding with KTRDR's models, polling. */
import { Effect, Either, ParseResult, Schema } from "effect"
import { copyFile, readdir } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"
import { raw, startServer, tempDir, type TestServerOptions } from "./support.ts"

const FIXTURES = fileURLToPath(new URL("../fixtures/ktrdr/", import.meta.url))

/** A server whose data dir holds KTRDR's own files and symbol cache. */
export const ktrdrServerWith = (options: Omit<TestServerOptions, "dataDir"> = {}) =>
  Effect.gen(function*() {
    const dir = yield* tempDir("ktrdr-contract-")
    for (const f of yield* Effect.promise(() => readdir(FIXTURES))) {
      if (f.endsWith(".csv") || f.endsWith(".json")) {
        yield* Effect.promise(() => copyFile(join(FIXTURES, f), join(dir, f)))
      }
    }
    return yield* startServer({ ...options, dataDir: dir })
  })

export const ktrdrServer = ktrdrServerWith()

/** Asserts that a live body decodes with KTRDR's model; the parse error is the failure message. */
export const conforms = <A, I>(model: Schema.Schema<A, I>, body: unknown, what: string): A => {
  const r = Schema.decodeUnknownEither(model, { onExcessProperty: "ignore" })(body)
  if (Either.isLeft(r)) expect.fail(`${what}: ${ParseResult.TreeFormatter.formatErrorSync(r.left)}`)
  return (r as Either.Right<A, never>).right
}

export const json = (method: string, body?: unknown): RequestInit => ({
  method,
  ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
})

/** What KTRDR's current CLI shows for a non-2xx answer: `detail ‖ message ‖ "Unknown error"`. */
export const shownByKtrdrCli = (body: any): string => body?.detail || body?.message || "Unknown error"

/** Polls GET /operations/{id} as KTRDR's CLI does, until completed|failed|cancelled (generous: 60 s). */
export const pollOperation = (baseUrl: string, id: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 600; i++) {
      const r = yield* raw(baseUrl, `/api/v1/operations/${id}`)
      if (["completed", "failed", "cancelled"].includes(r.json?.data?.status)) return r
      yield* Effect.sleep("100 millis")
    }
    return expect.fail(`operation ${id} did not finish`)
  })
