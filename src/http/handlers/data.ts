import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { KtrdrApi } from "../Api.ts"
import { ok } from "../envelope.ts"
import { loadHandler } from "./dataLoad.ts"

// PLACEHOLDER: symbols/timeframes/info/bars/range are being written (issue 5); only load is real here.
export const DataLiveHandlers = HttpApiBuilder.group(KtrdrApi, "data", (handlers) =>
  Effect.gen(function* () {
    const ctx = yield* Effect.context<import("../../services/Operations.ts").Operations | import("../../services/SymbolCatalog.ts").SymbolCatalog>()
    return handlers
      .handle("symbols", () => Effect.die("not built yet"))
      .handle("timeframes", () => Effect.die("not built yet"))
      .handle("info", () => Effect.die("not built yet"))
      .handle("bars", () => Effect.die("not built yet"))
      .handle("range", () => Effect.die("not built yet"))
      .handle("load", ({ payload, urlParams }) => loadHandler(payload, urlParams.async_mode ?? false).pipe(Effect.map(ok), Effect.provide(ctx)))
  })
)
