/**
 * The programmatic entry point.
 *
 * Effect users compose the services and Layers below themselves (provide `coreLayer` once: two provides
 * build two gateway sessions). Everyone else gets `createKtrdr()`: a small Promise façade over ONE
 * ManagedRuntime of the core graph, so library calls and an HTTP server started from it share one
 * gateway session, one pace gate and one operations registry (loads started here show up in the
 * server's /operations). `dispose()` stops the servers, cancels running loads (checkpointed) and closes
 * the gateway session.
 */
import { HttpServer } from "@effect/platform"
import { Cause, Context, Effect, Exit, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted, Scope } from "effect"
import type { Bar } from "./domain/Bar.ts"
import { sortUniqueSeries } from "./domain/barMerge.ts"
import { type BarSeries, barsOf, emptySeries } from "./domain/barSeries.ts"
import type { LoadMode, LoadResult } from "./domain/loadTypes.ts"
import { ChartRoutes } from "./http/chartRoutes.ts"
import { serverLayer } from "./http/Server.ts"
import { ApiConfig } from "./layers/ApiConfig.ts"
import { BarStore } from "./layers/BarStore.ts"
import { IbConfig, IbSettingsConfig } from "./layers/Config.ts"
import { coreLayer } from "./app/Core.ts"
import { DataConfig, DataSettingsConfig } from "./layers/DataConfig.ts"
import { Operations } from "./services/Operations.ts"
import { SymbolCatalog } from "./services/SymbolCatalog.ts"
import { Simulator, type SimulatorOptions } from "./app/demo.ts"

// ---- Effect API: the services, their Layers and the contract ----------------------------------------
export { coreLayer, type CoreOptions } from "./app/Core.ts"
export { serve, type ServeOptions } from "./app/serve.ts"
export { KtrdrClient } from "./cli/KtrdrClient.ts"
export { KtrdrApi } from "./contract/Api.ts"
export type { Bar } from "./domain/Bar.ts"
export { type BarSeries, barsOf, seriesFromBars } from "./domain/barSeries.ts"
export { IbError } from "./domain/errors.ts"
export type { LoadMode, LoadProgress, LoadRequest, LoadResult } from "./domain/loadTypes.ts"
export type { OperationInfo } from "./domain/operation.ts"
export { ApiLive, serverLayer } from "./http/Server.ts"
export { ApiConfig } from "./layers/ApiConfig.ts"
export { BarStore } from "./layers/BarStore.ts"
export { IbConfig } from "./layers/Config.ts"
export { DataConfig } from "./layers/DataConfig.ts"
export { IbClient } from "./layers/IbClient.ts"
export { IbConnection } from "./layers/IbConnection.ts"
export { DataManager } from "./services/DataManager.ts"
export { Operations } from "./services/Operations.ts"
export { SymbolCatalog } from "./services/SymbolCatalog.ts"

// ---- Promise façade -----------------------------------------------------------------------------------
export interface KtrdrOptions {
  /** Where the CSV store lives (else KTRDR_DATA_DIR, else ./data). */
  readonly dataDir?: string
  /** Run against the built-in gateway simulator, started inside this runtime (else KTRDR_IB_HOST:PORT). */
  readonly simulator?: boolean | SimulatorOptions
  /** Library code stays quiet by default: only warnings and errors are logged (to stdout, Effect's logger). */
  readonly logLevel?: "debug" | "info" | "warning" | "error" | "none"
}

export interface LoadOptions {
  /** `tail` (default): after the last stored bar; `backfill`: before the first; `full`; `local`: no IB. */
  readonly mode?: LoadMode
  readonly start?: Date | number
  readonly end?: Date | number
}

export interface BarsOptions {
  readonly start?: Date | number
  readonly end?: Date | number
}

export interface ServerOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  /** Clients must then send `Authorization: Bearer <token>`. */
  readonly token?: string
}

export interface RunningServer {
  readonly url: string
  readonly port: number
  readonly close: () => Promise<void>
}

export interface Ktrdr {
  /** Loads a series from IB into the store (as an operation of this runtime); resolves with what it did. */
  readonly load: (
    symbol: string,
    timeframe: string,
    options?: LoadOptions
  ) => Promise<LoadResult & { readonly operationId: string }>
  /** Stored bars, ascending; [] when nothing is stored. Never calls IB. */
  readonly bars: (symbol: string, timeframe: string, options?: BarsOptions) => Promise<ReadonlyArray<Bar>>
  /**
   * Stored bars as columns (Float64Array time/open/high/low/close/volume; NaN = missing price or absent volume),
   * ascending and unique; empty when nothing is stored. The cheap form for a million bars: no object per bar.
   */
  readonly series: (symbol: string, timeframe: string, options?: BarsOptions) => Promise<BarSeries>
  /** The HTTP API over this runtime's services (same gateway session). */
  readonly startServer: (options?: ServerOptions) => Promise<RunningServer>
  /** Stops servers, cancels running loads (their checkpoints are saved) and closes the gateway session. */
  readonly dispose: () => Promise<void>
  /** For mixing in Effect code: `ktrdr.runtime.runPromise(effect)`. */
  readonly runtime: ManagedRuntime.ManagedRuntime<Layer.Layer.Success<ReturnType<typeof coreLayer>>, unknown>
}

const ms = (d: Date | number | undefined) => (d === undefined ? undefined : typeof d === "number" ? d : d.getTime())

const LEVELS = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  none: LogLevel.None
} as const

const graph = (o: KtrdrOptions) =>
  Layer.unwrapScoped(
    Effect.gen(function*() {
      const dataConfig = o.dataDir === undefined
        ? DataConfig.layer
        : Layer.effect(DataConfig, Effect.map(DataSettingsConfig, (s) => ({ ...s, dataDir: o.dataDir! })))
      if (!o.simulator) return coreLayer({ dataConfig })
      // The simulator lives as long as the runtime: started here, closed by dispose() after the session.
      const gw = yield* Simulator.make({ port: 0, ...(o.simulator === true ? {} : o.simulator) })
      const ibConfig = Layer.effect(
        IbConfig,
        Effect.map(IbSettingsConfig, (s) => ({ ...s, host: "127.0.0.1", port: gw.port }))
      )
      return coreLayer({ simulated: true, ibConfig, dataConfig, ibHost: false })
    })
  ).pipe(Layer.provideMerge(Logger.minimumLogLevel(LEVELS[o.logLevel ?? "warning"])))

/**
 * Runs an effect on the runtime; a failure rejects with the typed error itself (`_tag`, IB `code`…), not a wrapper.
 */
const runWith =
  <R>(rt: ManagedRuntime.ManagedRuntime<R, unknown>) => <A, E>(effect: Effect.Effect<A, E, R>): Promise<A> =>
    rt.runPromiseExit(effect).then((exit) => {
      if (Exit.isSuccess(exit)) return exit.value
      throw Cause.squash(exit.cause)
    })

export const createKtrdr = (options: KtrdrOptions = {}): Ktrdr => {
  const runtime = ManagedRuntime.make(graph(options))
  const run = runWith(runtime)
  const servers = new Set<Scope.CloseableScope>()

  const load: Ktrdr["load"] = (symbol, timeframe, o = {}) =>
    run(Effect.gen(function*() {
      const ops = yield* Operations
      const info = yield* ops.startLoad({
        symbol,
        timeframe,
        mode: o.mode ?? "tail",
        start: ms(o.start),
        end: ms(o.end)
      })
      const result = yield* ops.outcome(info.operation_id)
      return { ...result, operationId: info.operation_id }
    }))

  const series: Ktrdr["series"] = (symbol, timeframe, o = {}) =>
    run(Effect.gen(function*() {
      const parsed = yield* (yield* SymbolCatalog).parse(symbol)
      const range = {
        ...(o.start === undefined ? {} : { start: ms(o.start)! }),
        ...(o.end === undefined ? {} : { end: ms(o.end)! })
      }
      return yield* (yield* BarStore).read(parsed.seriesKey, timeframe, range).pipe(
        Effect.map((s): BarSeries => sortUniqueSeries(s)),
        Effect.catchTag("NotFound", () => Effect.succeed(emptySeries()))
      )
    }))

  const bars: Ktrdr["bars"] = (symbol, timeframe, o = {}) => series(symbol, timeframe, o).then(barsOf)

  const startServer: Ktrdr["startServer"] = (o = {}) =>
    run(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const api = ApiConfig.make({
        port: o.port ?? 0,
        host: o.host ?? "127.0.0.1",
        token: o.token === undefined ? Option.none() : Option.some(Redacted.make(o.token))
      })
      // Built with this runtime's services in context: the server reuses them, it builds none.
      const ctx = yield* Layer.buildWithScope(serverLayer({ routes: ChartRoutes }).pipe(Layer.provide(api)), scope)
        .pipe(
          Effect.tapErrorCause(() => Scope.close(scope, Exit.void))
        )
      const address = Context.get(ctx, HttpServer.HttpServer).address
      const port = address._tag === "TcpAddress" ? address.port : 0
      servers.add(scope)
      const host = o.host ?? "127.0.0.1"
      return {
        url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
        port,
        close: () => {
          servers.delete(scope)
          return run(Scope.close(scope, Exit.void))
        }
      }
    }))

  const dispose = async () => {
    for (const s of [...servers]) {
      servers.delete(s)
      await run(Scope.close(s, Exit.void))
    }
    await runtime.dispose()
  }

  return { load, bars, series, startServer, dispose, runtime: runtime as Ktrdr["runtime"] }
}
