/**
 * Issue 11 at the data manager: a gateway that cannot be reached fails a load fast with one message
 * (or is waited for, when asked), early faults are retried like segment faults, preconditions are
 * checked before the first request, and the counters tell every request that reached the gateway.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Duration, Effect, Fiber, Layer } from "effect"
import type { LoadProgress } from "../../src/domain/loadTypes.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import type { IbSettings } from "../../src/layers/Config.ts"
import { DataConfig, type DataSettings } from "../../src/layers/DataConfig.ts"
import { DataManager, DataManagerLive } from "../../src/services/DataManager.ts"
import { SymbolCatalogLive } from "../../src/services/SymbolCatalog.ts"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import { eventually, ibLayer, startSim, testSettings } from "../layers/support.ts"

const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-gw-"))),
  (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
)

const ET = (iso: string) => Date.parse(`${iso}-05:00`)
/** Two sessions of hourly AAPL bars: a load of a few requests. */
const twoDays = {
  symbol: "AAPL",
  timeframe: "1h",
  mode: "full" as const,
  start: ET("2025-01-02T00:00:00"),
  end: ET("2025-01-04T00:00:00")
}

interface Setup {
  readonly sim?: GatewaySimulator
  readonly simOptions?: SimulatorOptions
  readonly ib?: Partial<IbSettings>
  readonly data?: Partial<DataSettings>
  readonly dataDir?: string
}

const setup = (o: Setup = {}) =>
  Effect.gen(function*() {
    const sim = o.sim ?? (yield* startSim({ pacing: "off", ...o.simOptions }))
    const dataDir = o.dataDir ?? (yield* tempDir)
    const layer = DataManagerLive.pipe(
      Layer.provideMerge(Layer.mergeAll(SymbolCatalogLive, BarStore.layer)),
      Layer.provideMerge(ibLayer(testSettings(sim, o.ib))),
      Layer.provideMerge(DataConfig.make({ dataDir, ...o.data }))
    )
    const ctx = yield* Layer.build(layer)
    return { sim, dataDir, dm: yield* Effect.provide(DataManager, ctx) }
  })

const requestsAt = (sim: GatewaySimulator) => {
  const r = sim.stats().requests
  return r.historical + r.contractDetails + r.headTimestamp
}

/** A simulator that refuses connections from the start: a closed port. */
const closedGateway = Effect.gen(function*() {
  const sim = yield* startSim({ pacing: "off" })
  yield* Effect.promise(() => sim.setFaults({ refuseConnections: true }))
  return sim
})

describe("a gateway that cannot be reached", () => {
  it.live(
    "fails the load within the connect timeout + 2 s, naming host:port, what was tried and the fix",
    () =>
      Effect.gen(function*() {
        const sim = yield* closedGateway
        const connectTimeout = Duration.seconds(2)
        // The supervisor is deep in its back-off (10 s) when the load arrives: the load does not wait for it.
        const { dm } = yield* setup({
          sim,
          ib: { connectTimeout, reconnectBase: Duration.seconds(10), reconnectCap: Duration.seconds(10) }
        })
        yield* Effect.sleep("300 millis")
        const t0 = Date.now()
        const e = yield* dm.load(twoDays).pipe(Effect.flip)
        const took = Date.now() - t0
        expect(e).toMatchObject({ _tag: "IbError", code: 502, category: "connectivity" })
        const m = e.message
        expect(m).toContain(`127.0.0.1:${sim.port}`)
        expect(m).toMatch(/2 connection attempts as client 1 failed/)
        expect(m).toMatch(/ECONNREFUSED/)
        expect(m).toContain("KTRDR_IB_HOST / KTRDR_IB_PORT")
        expect(m).toContain("Trusted IPs")
        expect(m).toContain("--wait-for-gateway")
        expect(took).toBeLessThan(Duration.toMillis(connectTimeout) + 2000)
        expect(requestsAt(sim)).toBe(0)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a load that asked to wait says so in its progress, and completes when the gateway comes back",
    () =>
      Effect.gen(function*() {
        const sim = yield* closedGateway
        const { dm } = yield* setup({
          sim,
          ib: { reconnectBase: Duration.millis(200), reconnectCap: Duration.millis(400) }
        })
        const seen: Array<LoadProgress> = []
        const fiber = yield* dm.run({ ...twoDays, waitForGateway: true }, (p) => Effect.sync(() => seen.push(p))).pipe(
          Effect.fork
        )
        const waiting = yield* eventually(
          "a waiting progress line with an attempt count",
          () => seen.filter((p) => p.phase === "waiting_for_gateway"),
          (ws) => ws.some((p) => /^waiting for gateway: attempt [1-9]\d*, next try in \d+ s$/.test(p.step)),
          10_000
        )
        expect(waiting.length).toBeGreaterThan(0)
        yield* Effect.sleep("500 millis")
        expect(requestsAt(sim)).toBe(0)
        yield* Effect.promise(() => sim.setFaults({ refuseConnections: false }))
        const r = yield* Fiber.join(fiber)
        expect(r.totalBars).toBe(14)
        expect(r.gapsLeft).toBe(0)
        // After the wait, progress went on with the load's own phases, ending with done.
        const after = seen.slice(seen.lastIndexOf(waiting.at(-1)!) + 1)
        expect(after.some((p) => p.phase === "fetching_segments")).toBe(true)
        expect(seen.at(-1)!.phase).toBe("done")
      }).pipe(Effect.scoped),
    30_000
  )
})

describe("early faults are retried like segment faults", () => {
  it.live("a dropped connection while the symbol is being resolved: the load completes", () =>
    Effect.gen(function*() {
      const { sim, dm } = yield* setup({ simOptions: { latencyMs: 400 } })
      const fiber = yield* dm.load(twoDays).pipe(Effect.fork)
      yield* eventually("the contract-details request at the gateway", () =>
        sim.stats().requests.contractDetails, (n) =>
        n >= 1)
      yield* Effect.promise(() =>
        sim.setFaults({ dropConnections: true })
      )
      const r = yield* Fiber.join(fiber)
      expect(r.totalBars).toBe(14)
      expect(r.requestsRetried).toBeGreaterThanOrEqual(1)
      expect(r.retryReasons["connectivity"]).toBeGreaterThanOrEqual(1)
      expect(sim.stats().requests.contractDetails).toBeGreaterThanOrEqual(2)
    }).pipe(Effect.scoped), 30_000)

  it.live("2110 while the head timestamp is being asked: the load completes", () =>
    Effect.gen(function*() {
      const { sim, dm } = yield* setup({ simOptions: { latencyMs: 400 } })
      const fiber = yield* dm.load(twoDays).pipe(Effect.fork)
      yield* eventually("the head-timestamp request at the gateway", () =>
        sim.stats().requests.headTimestamp, (n) =>
        n >= 1)
      yield* Effect.promise(() =>
        sim.setFaults({ serverBroken: true })
      )
      const r = yield* Fiber.join(fiber)
      expect(r.totalBars).toBe(14)
      expect(sim.stats().requests.headTimestamp).toBeGreaterThanOrEqual(2)
      expect(r.requestsRetried).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.scoped), 30_000)
})

/** Makes `dir` unwritable even for root (immutable attribute), else by mode; undoes it at scope end. */
const readOnly = (dir: string) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      if (process.getuid?.() === 0) {
        const r = spawnSync("chattr", ["+i", dir])
        return r.status === 0 ? "chattr" as const : "none" as const
      }
      await chmod(dir, 0o555)
      return "chmod" as const
    }),
    (how) =>
      Effect.promise(async () => {
        if (how === "chattr") spawnSync("chattr", ["-i", dir])
        if (how === "chmod") await chmod(dir, 0o755)
      })
  )

describe("preconditions before the first request", () => {
  it.live("a data dir that cannot be written: a typed error, nothing asked of the gateway", () =>
    Effect.gen(function*() {
      const parent = yield* tempDir
      // Below a regular file: no directory can be made there.
      yield* Effect.promise(() => writeFile(join(parent, "a-file"), ""))
      const { sim, dm } = yield* setup({ dataDir: join(parent, "a-file", "data") })
      const e = yield* dm.load(twoDays).pipe(Effect.flip)
      expect(e._tag).toBe("StorageError")
      expect(e.message).toContain("not writable")
      expect(e.message).toContain("nothing was fetched")
      expect(requestsAt(sim)).toBe(0)
    }).pipe(Effect.scoped))

  it.live("a read-only data dir: a typed error, nothing asked of the gateway", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const how = yield* readOnly(dir)
      if (how === "none") {
        return yield* Effect.logWarning("cannot make a directory read-only here (root without chattr)")
      }
      const { sim, dm } = yield* setup({ dataDir: dir })
      const e = yield* dm.load(twoDays).pipe(Effect.flip)
      expect(e._tag).toBe("StorageError")
      expect(e.message).toMatch(/not writable \((EACCES|EPERM|EROFS)/)
      expect(requestsAt(sim)).toBe(0)
    }).pipe(Effect.scoped))

  it.live("not enough free disk for the estimated size: a typed error before any bar is asked", () =>
    Effect.gen(function*() {
      const { sim, dm } = yield* setup({ data: { minFreeBytes: 1e18 } })
      const e = yield* dm.load(twoDays).pipe(Effect.flip)
      expect(e._tag).toBe("StorageError")
      expect(e.message).toContain("not enough free disk")
      expect(e.message).toContain("KTRDR_MIN_FREE_BYTES")
      expect(sim.stats().requests.historical).toBe(0)
    }).pipe(Effect.scoped))
})

describe("honest counters", () => {
  it.live("requests made include retries after pacing violations; the result says how many and why", () =>
    Effect.gen(function*() {
      const { sim, dm } = yield* setup({ ib: { pacingBackoff: Duration.millis(50) } })
      yield* Effect.promise(() => sim.setFaults({ pacingViolationNext: 2 }))
      const r = yield* dm.load({ ...twoDays, end: ET("2025-01-11T00:00:00") })
      const s = sim.stats()
      expect(s.pacingViolations).toBe(2)
      expect(r.ibRequests).toBe(s.requests.historical)
      expect(r.lookupRequests).toBe(s.requests.contractDetails + s.requests.headTimestamp)
      expect(r.requestsRetried).toBe(2)
      expect(r.retryReasons).toEqual({ pacing: 2 })
      expect(r.ibRequests).toBe(r.segmentsPlanned + 2)
    }).pipe(Effect.scoped))
})
