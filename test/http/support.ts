/** A real server on an ephemeral port over a simulator and a temp data dir, closed with the test's scope. */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ApiConfig, type ApiSettings } from "../../src/layers/ApiConfig.ts"
import { IbConfig, type IbSettings } from "../../src/layers/Config.ts"
import { coreLayer } from "../../src/app/Core.ts"
import { DataConfig, type DataSettings } from "../../src/layers/DataConfig.ts"
import { KtrdrApi } from "../../src/contract/Api.ts"
import { serverLayer, type ServerOptions } from "../../src/http/Server.ts"
import type { GatewaySimulator, SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"
import { startSim, testSettings } from "../layers/support.ts"

export const tempDir = (prefix = "ktrdr-http-") =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), prefix))),
    (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
  )

export interface TestServerOptions {
  readonly sim?: SimulatorOptions
  readonly api?: Partial<ApiSettings>
  readonly ib?: Partial<IbSettings>
  readonly data?: Partial<DataSettings>
  readonly server?: ServerOptions
  /** An existing data dir (else a fresh temp dir). */
  readonly dataDir?: string
}

export interface TestServer {
  readonly sim: GatewaySimulator
  readonly dataDir: string
  readonly baseUrl: string
  readonly port: number
}

/** The whole server process in-process: simulator, core graph, HTTP server. Logs only warnings. */
export const startServer = (o: TestServerOptions = {}) =>
  Effect.gen(function*() {
    const sim = yield* startSim({ pacing: "off", ...o.sim })
    const dataDir = o.dataDir ?? (yield* tempDir())
    const core = coreLayer({
      simulated: true,
      ibConfig: IbConfig.make(testSettings(sim, { largeBarSpacing: Duration.millis(0), ...o.ib })),
      dataConfig: DataConfig.make({ dataDir, ...o.data })
    })
    const layer = serverLayer(o.server).pipe(
      Layer.provideMerge(core),
      Layer.provide(ApiConfig.make({ port: 0, ...o.api })),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
    )
    const ctx = yield* Layer.build(layer)
    const server = yield* Effect.provide(HttpServer.HttpServer, ctx)
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : 0
    return { sim, dataDir, port, baseUrl: `http://127.0.0.1:${port}`, context: ctx } satisfies TestServer & {
      context: unknown
    }
  })

/** The client derived from the contract, as the CLI uses it. */
export const apiClient = (baseUrl: string, token?: string) =>
  HttpApiClient.make(KtrdrApi, {
    baseUrl,
    ...(token === undefined ? {} : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token)) })
  }).pipe(Effect.provide(FetchHttpClient.layer))

/** Raw HTTP: status, headers and parsed JSON (or text) of one request. */
export const raw = (baseUrl: string, path: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const res = await fetch(`${baseUrl}${path}`, init)
    const text = await res.text()
    let json: unknown = undefined
    try {
      json = JSON.parse(text)
    } catch { /* not JSON */ }
    return { status: res.status, headers: res.headers, text, json: json as any }
  })
