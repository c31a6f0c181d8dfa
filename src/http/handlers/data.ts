/**
 * The data group: reads are served from the store (dataRead.ts, barsRead.ts through BarsReader), loads go
 * through Operations (dataLoad.ts).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import type { Operations } from "../../services/Operations.ts"
import type { SymbolCatalog } from "../../services/SymbolCatalog.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { BarsReader } from "../barsReader.ts"
import { ok } from "../../contract/envelope.ts"
import { loadHandler, startLoad } from "./dataLoad.ts"
import { makeDataReads } from "./dataRead.ts"

export const DataLiveHandlers = HttpApiBuilder.group(KtrdrApi, "data", (handlers) =>
  Effect.gen(function*() {
    const ctx = yield* Effect.context<Operations | SymbolCatalog>()
    const reads = yield* makeDataReads
    // Shared with the request middleware's hot lane: one hot-series cache for the server's life.
    const { bars } = yield* BarsReader
    return handlers
      .handle("symbols", () => Effect.map(reads.symbols, ok))
      .handle("timeframes", () => Effect.map(reads.timeframes, ok))
      .handle("info", () => Effect.map(reads.info, ok))
      .handle("bars", ({ path, urlParams }) => bars({ ...path, ...urlParams }))
      .handle("range", ({ payload }) => Effect.map(reads.range(payload.symbol, payload.timeframe), ok))
      .handle("load", ({ payload, urlParams }) =>
        loadHandler(payload, urlParams.async_mode ?? false).pipe(Effect.map(ok), Effect.provide(ctx)))
      .handle("acquireDownload", ({ payload }) =>
        startLoad(payload).pipe(
          Effect.map((info) => ({
            success: true as const,
            operation_id: info.operation_id,
            status: "started" as const,
            message: `Started ${payload.mode} download for ${payload.symbol} ${payload.timeframe}`
          })),
          Effect.provide(ctx)
        ))
  }))
