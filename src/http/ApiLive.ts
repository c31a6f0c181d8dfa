/**
 * The API's handlers with auth, without any server or docs: the server adds a listener, OpenAPI and
 * Swagger UI around it; the embedded CLI runs it in-process (so the CLI bundle carries no Swagger UI).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect, Layer, Option, Redacted } from "effect"
import { ApiConfig } from "../layers/ApiConfig.ts"
import { KtrdrApi } from "../contract/Api.ts"
import { Auth } from "../contract/api/auth.ts"
import { Unauthorized } from "../contract/envelope.ts"
import { DataLiveHandlers } from "./handlers/data.ts"
import { GapsLiveHandlers } from "./handlers/gaps.ts"
import { HealthLive } from "./handlers/health.ts"
import { IbLiveHandlers } from "./handlers/ib.ts"
import { IbExtraLiveHandlers } from "./handlers/ibExtra.ts"
import { IbHostLiveHandlers } from "./handlers/ibHost.ts"
import { OperationsLiveHandlers } from "./handlers/operations.ts"
import { SystemLiveHandlers } from "./handlers/system.ts"
import { sameToken } from "./bearer.ts"
import { BarsReader } from "./barsReader.ts"

export const AuthLive = Layer.effect(
  Auth,
  Effect.map(ApiConfig, (cfg) =>
    Auth.of({
      bearer: (token) =>
        Option.match(cfg.token, {
          onNone: () => Effect.void,
          onSome: (expected) =>
            sameToken(Redacted.value(token), Redacted.value(expected))
              ? Effect.void
              : Effect.fail(
                new Unauthorized({
                  code: "UNAUTHORIZED",
                  message: Redacted.value(token) === ""
                    ? "This server needs `Authorization: Bearer <KTRDR_API_TOKEN>`"
                    : "Wrong bearer token",
                  details: null
                })
              )
        })
    }))
)

/**
 * Every group's handlers; extra route layers (the chart page) are added by the caller. Auth and the bars
 * reader are outputs too: the server's hot lane (hotLane.ts) answers GET /data with the same ones.
 */
export const ApiLive = HttpApiBuilder.api(KtrdrApi).pipe(
  Layer.provide(
    Layer.mergeAll(
      HealthLive,
      DataLiveHandlers,
      OperationsLiveHandlers,
      GapsLiveHandlers,
      IbLiveHandlers,
      IbHostLiveHandlers,
      IbExtraLiveHandlers,
      SystemLiveHandlers
    )
  ),
  Layer.provideMerge(Layer.merge(AuthLive, BarsReader.layer))
)
