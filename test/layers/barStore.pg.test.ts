/** The BarStore contract on PostgreSQL: a private cluster for this file, a fresh database per case. */
import { afterAll, beforeAll } from "@effect/vitest"
import { Layer, Logger, LogLevel, Redacted } from "effect"
import { describeDatabase } from "../../src/layers/DatabaseConfig.ts"
import { pgBarStoreLayer } from "../../src/layers/PgBarStore.ts"
import { pgDatabase } from "../../src/layers/pgDatabase.ts"
import { type PgCluster, startPgCluster } from "../support/pgCluster.ts"
import { barStoreSuite } from "./barStore.suite.ts"

let cluster: PgCluster
beforeAll(async () => {
  cluster = await startPgCluster()
})
afterAll(() => cluster?.stop())

export const pgStoreLayer = (url: string) =>
  pgBarStoreLayer(describeDatabase(url)).pipe(
    Layer.provide(pgDatabase(Redacted.make(url))),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )

barStoreSuite({
  name: "PostgreSQL",
  fresh: async () => ({ layer: pgStoreLayer(await cluster.createDatabase()), close: async () => {} })
})
