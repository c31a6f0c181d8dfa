/**
 * The IB host endpoints (DESIGN: one process owns the gateway session): other processes' RemoteIb reaches
 * this server's IbClient — and so its PaceGate and its one gateway session — through these. They mirror
 * IbClient one to one; IB failures keep their code, request id and category in the error details.
 */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import {
  BadRequestWire,
  Envelope,
  GatewayErrorWire,
  GatewayUnavailableWire,
  InternalWire,
  NotFoundWire
} from "../envelope.ts"
import {
  BarsWire,
  ContractsWire,
  ContractSpecWire,
  CurrentTimeWire,
  HeadTimestampParams,
  HeadTimestampWire,
  HistoricalRequestWire
} from "../ibWire.ts"
import { Auth } from "./auth.ts"

export class IbHostGroup extends HttpApiGroup.make("ibHost")
  .add(
    HttpApiEndpoint.post("historical", "/ib/historical")
      .setPayload(HistoricalRequestWire)
      .addSuccess(Envelope(BarsWire))
      .annotate(
        OpenApi.Description,
        "One historical-data request through this server's pace gate; closing the connection cancels it at the gateway"
      )
  )
  .add(
    HttpApiEndpoint.get("headTimestamp", "/ib/head-timestamp")
      .setUrlParams(HeadTimestampParams)
      .addSuccess(Envelope(HeadTimestampWire))
      .annotate(OpenApi.Description, "First instant IB has data for (epoch ms)")
  )
  .add(
    HttpApiEndpoint.post("contract", "/ib/contract")
      .setPayload(ContractSpecWire)
      .addSuccess(Envelope(ContractsWire))
      .annotate(OpenApi.Description, "Contract details; an unknown contract is a 404 with code IB-200")
  )
  .add(HttpApiEndpoint.get("currentTime", "/ib/current-time").addSuccess(Envelope(CurrentTimeWire)))
  .addError(BadRequestWire)
  .addError(NotFoundWire)
  .addError(GatewayErrorWire)
  .addError(GatewayUnavailableWire)
  .addError(InternalWire)
  .middleware(Auth)
  .prefix("/api/v1")
  .annotate(OpenApi.Description, "IB host service: this server's gateway session for other ktrdr processes (RemoteIb)")
{}
