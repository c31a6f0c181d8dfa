/**
 * The IB host endpoints: this server's IbClient (its pace gate, its one session) for other processes.
 * A client that closes the connection interrupts the handler, and IbClient then cancels the request at
 * the gateway. IB failures keep every IbError field in the envelope (errorMapping.ts toApiError).
 */
import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { IbClient } from "../../layers/IbClient.ts"
import { KtrdrApi } from "../../contract/Api.ts"
import { ok } from "../../contract/envelope.ts"
import { toApiError } from "../errorMapping.ts"

export const IbHostLiveHandlers = HttpApiBuilder.group(KtrdrApi, "ibHost", (handlers) =>
  Effect.gen(function*() {
    const ib = yield* IbClient
    return handlers
      .handle("historical", ({ payload }) =>
        ib.historicalBars(payload).pipe(Effect.map((bars) => ok({ bars })), Effect.mapError(toApiError)))
      .handle("headTimestamp", ({ urlParams: { whatToShow, useRTH, ...contract } }) =>
        ib.headTimestamp(contract, { whatToShow, useRTH }).pipe(
          Effect.map((timestamp) =>
            ok({ timestamp })
          ),
          Effect.mapError(toApiError)
        ))
      .handle("contract", ({ payload }) =>
        ib.contractDetails(payload).pipe(
          Effect.map((contracts) =>
            ok({ contracts })
          ),
          Effect.mapError(toApiError)
        ))
      .handle("currentTime", () =>
        ib.currentTime.pipe(
          Effect.map((time) => ok({ time })),
          Effect.mapError(toApiError)
        ))
  }))
