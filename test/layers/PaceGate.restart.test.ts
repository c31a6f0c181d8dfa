/** PaceGate across restarts of our process: the gateway remembers our requests, so the gate must too. */
import { describe, expect, it } from "@effect/vitest"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Clock, Duration, Effect, Fiber, Layer, Logger, LogLevel, TestClock } from "effect"
import type { PaceRequest } from "../../src/domain/PacingRules.ts"
import { IbConfig } from "../../src/layers/Config.ts"
import { PaceGate } from "../../src/layers/PaceGate.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-pace-"))),
  (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
)

const small = (identity: string, contract = "AAPL"): PaceRequest => ({ identity, contract, weight: 1, small: true })

/** A gate over `stateFile`, built in the caller's scope: closing that scope is "our process ending". */
const gateOn = (stateFile: string) =>
  Layer.build(
    PaceGate.layerWith({ marginMs: 100, sendSpacingMs: 0, stateFile }).pipe(
      Layer.provide(IbConfig.make({ maxInFlight: 10, largeBarSpacing: Duration.zero })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    )
  ).pipe(Effect.map((ctx) => ctx.unsafeMap.get(PaceGate.key) as PaceGate["Type"]))

/** Lets real I/O (the gate's file writes) finish while the test clock stands still. */
const settleIo = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

/**
 * How long the gate plans to hold `req` (0: it went at once), read from its stats when it plans — not from
 * when `use` runs, which also depends on real file I/O. Then lets it go and waits until it went.
 */
const plannedWait = (gate: PaceGate["Type"], req: PaceRequest) =>
  Effect.gen(function*() {
    const before = yield* gate.stats
    const fiber = yield* Effect.fork(gate.run(req, Effect.void))
    for (let i = 0; i < 2000 && fiber.unsafePoll() === null && (yield* gate.stats).waits === before.waits; i++) {
      yield* settleIo
    }
    const waited = (yield* gate.stats).totalWaitMs - before.totalWaitMs
    for (let i = 0; i < 2000 && fiber.unsafePoll() === null; i++) {
      yield* TestClock.adjust("1 second")
      yield* settleIo
    }
    yield* Fiber.join(fiber)
    return waited
  })

describe("PaceGate state file", () => {
  it.scoped("a restarted gate keeps an identical request 15 s from the one sent before the restart", () =>
    Effect.gen(function*() {
      const file = join(yield* tempDir, "pace.json")
      // The first process sends "x" at once (no wait, so no clock advance) and ends.
      const first = yield* Effect.scoped(
        Effect.flatMap(gateOn(file), (g) => g.run(small("x"), Clock.currentTimeMillis))
      )
      expect(first).toBe(0)
      const saved = JSON.parse(yield* Effect.promise(() => readFile(file, "utf8")))
      expect(saved.entries).toMatchObject([{ identity: "x", t: 0, until: 0 }])
      // The next process starts right away: "x" again waits out the window; anything else goes.
      const second = yield* gateOn(file)
      expect(yield* plannedWait(second, small("z"))).toBe(0)
      const now = yield* Clock.currentTimeMillis // letting "z" go may have moved the test clock on
      expect(yield* plannedWait(second, small("x"))).toBe(15_100 - now)
    }))

  it.scoped("a request in flight when the process ended counts until the restart", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "pace.json")
      // Sent at 0 and never answered: the file says so (until null); the next process starts at 5000.
      yield* Effect.promise(() =>
        writeFile(
          file,
          JSON.stringify({
            version: 1,
            entries: [{ identity: "x", contract: "AAPL", weight: 1, small: true, t: 0, until: null }]
          })
        )
      )
      yield* TestClock.adjust("5 seconds")
      const gate = yield* gateOn(file)
      expect(yield* plannedWait(gate, small("x"))).toBe(15_100) // from 5000, not from 0
    }))

  it.scoped("with no file in a writable directory nothing waits; an unreadable file holds small bars a window", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const fresh = yield* gateOn(join(dir, "new.json"))
      expect(yield* plannedWait(fresh, small("a"))).toBe(0)
      const garbled = join(dir, "garbled.json")
      yield* Effect.promise(() => writeFile(garbled, "{ not json"))
      const started = yield* Clock.currentTimeMillis
      const wary = yield* gateOn(garbled)
      // Which requests went before this process started cannot be known: small bars wait out the identical
      // window (which covers the burst window too); bars IB does not pace go at once.
      expect(yield* plannedWait(wary, { identity: "L", contract: "L", weight: 1, small: false })).toBe(0)
      // (Letting "L" go may have moved the test clock on while its file write finished.)
      const now = yield* Clock.currentTimeMillis
      expect(yield* plannedWait(wary, small("b"))).toBe(started + 15_100 - now)
    }))

  it.scoped("a state file that cannot be written holds small bars a window, and requests still go", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const blocker = join(dir, "file")
      yield* Effect.promise(() => writeFile(blocker, "not a directory"))
      const gate = yield* gateOn(join(blocker, "pace.json"))
      expect(yield* plannedWait(gate, small("a"))).toBe(15_100)
    }))
})
