/**
 * One cluster entity per gateway of KTRDR_IB_GATEWAYS, keyed by its name. The runner that owns the entity's shard
 * holds the gateway's only session (IbConnection + PaceGate + IbClient, opened in the entity's scope), so every
 * request to that gateway, from any runner, passes one PaceGate: IB's pacing holds cluster-wide. When the owner dies
 * its shard moves and the next message opens the session on the new owner; the old one died with its process, so
 * there are never two sessions with one client id. Messages are not persisted: a request is a live call, and a load
 * that loses one retries it on its own schedule.
 */
import { Entity } from "@effect/cluster"
import { Rpc } from "@effect/rpc"
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Schema } from "effect"
import {
  BarWire,
  ContractInfoWire,
  ContractSpecWire,
  HistoricalRequestWire,
  WhatToShowWire
} from "../contract/ibWire.ts"
import { IbError } from "../domain/errors.ts"
import type { GatewayEntry } from "../domain/gatewayList.ts"
import { IbConfig } from "../layers/Config.ts"
import { GatewayInfo, type GatewayReadiness } from "../layers/GatewayInfo.ts"
import { IbClient, IbClientLive } from "../layers/IbClient.ts"
import { IbConnectionLive } from "../layers/IbConnection.ts"
import { PaceGate } from "../layers/PaceGate.ts"
import { openPgPaceStore } from "./pgPaceStore.ts"

export const GatewayLoad = Schema.Struct({
  /** Requests running at the gateway, and waiting for pacing or a slot. */
  inFlight: Schema.Number,
  queued: Schema.Number,
  /** Which runner holds the session now (`host:port`). */
  runner: Schema.String
})
export type GatewayLoad = typeof GatewayLoad.Type

export const GatewayReadinessWire = Schema.Struct({
  ready: Schema.Boolean,
  state: Schema.String,
  runner: Schema.String
})

export const Gateway = Entity.make("Gateway", [
  Rpc.make("historical", { payload: HistoricalRequestWire, success: Schema.Array(BarWire), error: IbError }),
  Rpc.make("contractDetails", { payload: ContractSpecWire, success: Schema.Array(ContractInfoWire), error: IbError }),
  Rpc.make("headTimestamp", {
    payload: { contract: ContractSpecWire, whatToShow: WhatToShowWire, useRTH: Schema.Boolean },
    success: Schema.Number,
    error: IbError
  }),
  Rpc.make("currentTime", { success: Schema.Number, error: IbError }),
  Rpc.make("load", { success: GatewayLoad }),
  Rpc.make("readiness", { success: GatewayReadinessWire })
])

/** The cluster's gateways by name, and whether they are the built-in simulator. */
export class ClusterGateways extends Context.Tag("ktrdr/ClusterGateways")<ClusterGateways, {
  readonly list: ReadonlyArray<GatewayEntry>
  readonly simulated: boolean
}>() {}

/** A gateway's own session layers: the single-process wiring with the entry's address and client id. */
const sessionLayer = (g: GatewayEntry, simulated: boolean, sql: SqlClient.SqlClient) =>
  Layer.mergeAll(IbClientLive, GatewayInfo.direct(simulated)).pipe(
    // The gateway's pacing history lives in the database: its next owner, on any machine, knows what was sent.
    Layer.provideMerge(Layer.merge(
      IbConnectionLive,
      PaceGate.layerWith({
        paceStore: (now) => Effect.provideService(openPgPaceStore(g.name)(now), SqlClient.SqlClient, sql)
      })
    )),
    Layer.provide(Layer.effect(
      IbConfig,
      Effect.map(IbConfig, (base) => ({ ...base, host: g.host, port: g.port, clientId: g.clientId }))
    ))
  )

const unknownGateway = (name: string) =>
  IbError.of("connectivity", `gateway ${name} is not in this runner's KTRDR_IB_GATEWAYS`)

export const GatewayLive = Gateway.toLayer(
  Effect.gen(function*() {
    const address = yield* Entity.CurrentAddress
    const runner = yield* Entity.CurrentRunnerAddress
    const where = `${runner.host}:${runner.port}`
    const gateways = yield* ClusterGateways
    const entry = gateways.list.find((g) => g.name === address.entityId)
    if (entry === undefined) {
      const fail = Effect.fail(unknownGateway(address.entityId))
      return {
        historical: () => fail,
        contractDetails: () => fail,
        headTimestamp: () => fail,
        currentTime: () => fail,
        load: () => Effect.succeed({ inFlight: 0, queued: Number.MAX_SAFE_INTEGER, runner: where }),
        readiness: () => Effect.succeed({ ready: false, state: "Unknown", runner: where })
      }
    }
    // Built in the entity's scope: the session closes when the shard leaves this runner or the entity is reaped.
    const ctx = yield* Layer.build(sessionLayer(entry, gateways.simulated, yield* SqlClient.SqlClient))
    const ib = Context.get(ctx, IbClient)
    const gate = Context.get(ctx, PaceGate)
    const info = Context.get(ctx, GatewayInfo)
    yield* Effect.logInfo(`gateway ${entry.name} (${entry.host}:${entry.port}, client ${entry.clientId}) owned here`)
    yield* Effect.addFinalizer(() => Effect.logInfo(`gateway ${entry.name} released`))
    return {
      historical: ({ payload }) => ib.historicalBars(payload),
      contractDetails: ({ payload }) => ib.contractDetails(payload),
      headTimestamp: ({ payload }) =>
        ib.headTimestamp(payload.contract, { whatToShow: payload.whatToShow, useRTH: payload.useRTH }),
      currentTime: () => ib.currentTime,
      load: () => Effect.map(gate.stats, (s) => ({ inFlight: s.inFlight, queued: s.queued, runner: where })),
      readiness: () =>
        Effect.map(info.readiness, (r: GatewayReadiness) => ({ ready: r.ready, state: r.state, runner: where }))
    }
  }),
  // Status and load questions must not queue behind a paced request; the gate does the gateway's own limiting.
  { concurrency: "unbounded", maxIdleTime: "1 hour" }
)
