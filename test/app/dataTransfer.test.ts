/**
 * export(import(KTRDR's fixtures)) through PostgreSQL: the same bars (parsed), byte for byte the CSV store's own
 * canonical form, the symbol cache's entries kept; a second import changes nothing.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { transfer } from "../../src/app/dataTransferLive.ts"
import { parseBarCsv } from "../../src/domain/barCsv.ts"
import { sortUniqueSeries } from "../../src/domain/barMerge.ts"
import { barsOf, extrasAt } from "../../src/domain/barSeries.ts"
import { BarStore } from "../../src/layers/BarStore.ts"
import { DataConfig } from "../../src/layers/DataConfig.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"

const FIXTURES = fileURLToPath(new URL("../fixtures/ktrdr/", import.meta.url))

let cluster: PgCluster
let root: string
beforeAll(async () => {
  cluster = await startPgCluster()
  root = await mkdtemp(join(tmpdir(), "ktrdr-transfer-"))
})
afterAll(async () => {
  await cluster?.stop()
  await rm(root, { recursive: true, force: true })
})

const withEnv = (env: Record<string, string>) => <A, E>(self: Effect.Effect<A, E>) =>
  self.pipe(
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
    Effect.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

const parsed = async (file: string) => {
  const r = parseBarCsv(await readFile(file))
  if (Either.isLeft(r)) throw new Error(`${file}: ${r.left.message}`)
  return r.right
}

describe("ktrdr data export / import", () => {
  it.live(
    "KTRDR fixtures → PostgreSQL → CSV: same bars, canonical bytes, symbol cache kept, idempotent",
    () =>
      Effect.gen(function*() {
        const url = yield* Effect.promise(() => cluster.createDatabase())
        const env = withEnv({ KTRDR_DATABASE_URL: url, KTRDR_DATA_DIR: join(root, "unused") })
        const csvFiles = (yield* Effect.promise(() => readdir(FIXTURES))).filter((f) => f.endsWith(".csv")).sort()

        const first = yield* env(transfer.importFrom(FIXTURES))
        expect(first.series.map((s) => `${s.series}_${s.timeframe}.csv`).sort()).toEqual(csvFiles)
        expect(first.series.every((s) => s.action === "written")).toBe(true)
        expect(first.cacheEntries).toBeGreaterThan(0)
        const again = yield* env(transfer.importFrom(FIXTURES))
        expect(again.series.map((s) => s.action)).toEqual(first.series.map(() => "unchanged"))
        expect(again.cacheEntries).toBe(0)

        const out = join(root, "out")
        const exported = yield* env(transfer.exportTo(out, []))
        expect(exported.series.map((s) => s.bars)).toEqual(first.series.map((s) => s.bars))

        // the CSV store's own canonical form of each fixture, to compare bytes against
        const canonical = join(root, "canonical")
        yield* Effect.promise(() => mkdir(canonical))
        yield* Effect.promise(() => Promise.all(csvFiles.map((f) => copyFile(join(FIXTURES, f), join(canonical, f)))))
        const csv = yield* Effect.provide(
          BarStore,
          BarStore.layer.pipe(Layer.provide(DataConfig.make({ dataDir: canonical })))
        )
        for (const f of csvFiles) {
          const [series, tf] = [f.slice(0, f.lastIndexOf("_")), f.slice(f.lastIndexOf("_") + 1, -4)]
          yield* csv.write(series, tf, yield* csv.read(series, tf))
          const want = sortUniqueSeries(yield* Effect.promise(() => parsed(join(FIXTURES, f))))
          const got = yield* Effect.promise(() => parsed(join(out, f)))
          expect(got.length).toBe(want.length)
          expect(barsOf(got)).toEqual(barsOf(want))
          expect(got.extraColumns).toEqual(want.extraColumns)
          if (want.length > 0) expect(extrasAt(got, want.length - 1)).toEqual(extrasAt(want, want.length - 1))
          const [a, b] = yield* Effect.promise(() =>
            Promise.all([readFile(join(out, f)), readFile(join(canonical, f))])
          )
          expect(a.equals(b), `${f} differs from the CSV store's canonical form`).toBe(true)
        }
        const cache = JSON.parse(
          yield* Effect.promise(() => readFile(join(out, "symbol_discovery_cache.json"), "utf8"))
        )
        const fixtureCache = JSON.parse(
          yield* Effect.promise(() => readFile(join(FIXTURES, "symbol_discovery_cache.json"), "utf8"))
        )
        expect(cache.cache).toEqual(fixtureCache.cache)
      }),
    120_000
  )
})
