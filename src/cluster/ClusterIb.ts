/**
 * IbClient, GatewayInfo and PaceGate of a cluster runner: every IB request becomes a message to the Gateway entity
 * that holds the chosen gateway's session, wherever that runs. Requests go to the least loaded gateway: its queue at
 * the owner's PaceGate (asked every half second) plus what this runner sent since. So loads of different series spread
 * over the gateways, and one backfill's segments spread over all of them. The local PaceGate only counts: pacing is
 * the owner's.
 */
import { Context, Duration, Effect, Layer, Option, Ref, Schedule, Stream } from "effect"
import { IbError } from "../domain/errors.ts"
import { GatewayInfo, type GatewayReadiness } from "../layers/GatewayInfo.ts"
import { type ClientStats, IbClient, noClientStats } from "../layers/IbClient.ts"
import { PaceGate } from "../layers/PaceGate.ts"
import { logExit, type RequestKind } from "../layers/requestLog.ts"
import { ClusterGateways, Gateway } from "./GatewayEntity.ts"

/** How long a status question to a gateway's owner may take before the gateway counts as unreachable. */
const ASK_TIMEOUT = Duration.seconds(3)
const LOAD_REFRESH = Duration.millis(500)

const noGateway = () => IbError.of("connectivity", "no gateway is configured (KTRDR_IB_GATEWAYS is empty)")

export const clusterIbLayer = Layer.scopedContext(Effect.gen(function*() {
  const { list, simulated } = yield* ClusterGateways
  const clientFor = yield* Gateway.client
  const names = list.map((g) => g.name)
  /** Last answered queue length per gateway (Infinity: did not answer), and calls this runner has out now. */
  const remote = new Map<string, number>(names.map((n) => [n, 0]))
  const local = new Map<string, number>(names.map((n) => [n, 0]))
  let turn = 0
  const stats = yield* Ref.make<ClientStats>(noClientStats)

  /**
   * A gateway that has not answered three times running is out of reach (its owner died, its shard is moving): it
   * gets nothing until it answers. One slow answer on a busy machine keeps its last figure instead.
   */
  const misses = new Map<string, number>()
  const refresh = Effect.forEach(names, (n) =>
    clientFor(n).load().pipe(
      Effect.timeout(ASK_TIMEOUT),
      Effect.match({
        onFailure: () => {
          const m = (misses.get(n) ?? 0) + 1
          misses.set(n, m)
          if (m >= 3) remote.set(n, Number.POSITIVE_INFINITY)
        },
        onSuccess: (l) => {
          misses.set(n, 0)
          remote.set(n, l.inFlight + l.queued)
        }
      })
    ), { concurrency: "unbounded", discard: true })
  yield* Effect.forkScoped(Effect.repeat(refresh, Schedule.spaced(LOAD_REFRESH)))

  /** Least loaded first; ties go round the list so equal gateways share the work. */
  const pick = Effect.sync(() => {
    if (names.length === 0) return Option.none<string>()
    turn = (turn + 1) % names.length
    let best = names[turn]!
    let bestScore = Number.POSITIVE_INFINITY
    for (let k = 0; k < names.length; k++) {
      const n = names[(turn + k) % names.length]!
      const score = (remote.get(n) ?? 0) + (local.get(n) ?? 0)
      if (score < bestScore) {
        best = n
        bestScore = score
      }
    }
    return Option.some(best)
  })

  const call = <A, E extends { readonly _tag: string; readonly message?: string }>(
    kind: RequestKind,
    f: (c: ReturnType<typeof clientFor>) => Effect.Effect<A, IbError | E>
  ): Effect.Effect<A, IbError> =>
    Effect.flatMap(
      pick,
      Option.match({
        onNone: () => Effect.fail(noGateway()),
        onSome: (name) =>
          Effect.acquireUseRelease(
            Effect.sync(() => local.set(name, (local.get(name) ?? 0) + 1)),
            () =>
              f(clientFor(name)).pipe(
                // The cluster could not deliver (a full mailbox, storage trouble): the gateway is out of reach for now.
                Effect.mapError((e) =>
                  e instanceof IbError
                    ? e
                    : IbError.of("connectivity", `gateway ${name} unreachable through the cluster: ${e._tag}`)
                )
              ),
            () => Effect.sync(() => local.set(name, (local.get(name) ?? 1) - 1))
          ).pipe(
            Effect.tapBoth({
              onFailure: (e) =>
                Ref.update(stats, (s) => ({
                  ...s,
                  requestsFailed: { ...s.requestsFailed, [e.category]: (s.requestsFailed[e.category] ?? 0) + 1 }
                })),
              onSuccess: () =>
                Effect.flatMap(
                  Effect.clockWith((c) => c.currentTimeMillis),
                  (t) => Ref.update(stats, (s) => ({ ...s, requestsOk: s.requestsOk + 1, lastOkAt: t }))
                )
            }),
            // The load that asked counts the request (loadAccounting.ts), as it does with its own session.
            Effect.onExit(logExit(kind)),
            Effect.withSpan(`ClusterIb.${kind}`, { attributes: { gateway: name } })
          )
      })
    )

  const ib = IbClient.of({
    currentTime: call("currentTime", (c) => c.currentTime()),
    contractDetails: (contract) => call("contractDetails", (c) => c.contractDetails(contract)),
    headTimestamp: (contract, o) =>
      call("headTimestamp", (c) => c.headTimestamp({ contract, whatToShow: o.whatToShow, useRTH: o.useRTH })),
    historicalBars: (r) =>
      call("historical", (c) => c.historical(r)).pipe(
        Effect.tap((bars) => Ref.update(stats, (s) => ({ ...s, barsReceived: s.barsReceived + bars.length })))
      ),
    stats: Ref.get(stats)
  })

  const readiness: Effect.Effect<GatewayReadiness> = Effect.forEach(names, (n) =>
    clientFor(n).readiness().pipe(
      Effect.timeout(ASK_TIMEOUT),
      Effect.orElseSucceed(() => ({ ready: false, state: "Unreachable", runner: "" }))
    ), { concurrency: "unbounded" }).pipe(
      Effect.map((rs) => {
        const ready = rs.filter((r) => r.ready).length
        return {
          ready: ready > 0,
          state: ready === rs.length && ready > 0 ? "Ready" : ready > 0 ? "Degraded" : "Unreachable",
          farms: null,
          attempt: null,
          nextAttemptAt: null,
          lastError: ready === rs.length
            ? null
            : rs.map((r, i) => `${names[i]}: ${r.state}${r.runner === "" ? "" : ` on ${r.runner}`}`).join("; ")
        }
      })
    )
  const info = GatewayInfo.remote(simulated, readiness)
  // Pacing is the owner's: a local gate would hold every gateway to one gateway's rate. This one only passes through.
  const gate = PaceGate.of({
    run: (_req, use) => use,
    stats: Effect.sync(() => ({
      waits: 0,
      totalWaitMs: 0,
      byReason: { identical: 0, burst: 0, window: 0, spacing: 0, "in-flight": 0 },
      inFlight: [...local.values()].reduce((a, b) => a + b, 0),
      queued: 0
    })),
    waits: Stream.empty
  })
  return Context.make(IbClient, ib).pipe(Context.add(GatewayInfo, info), Context.add(PaceGate, gate))
}))
