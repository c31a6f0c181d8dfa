/**
 * Gateway requests as Effects: each with a timeout, interruption (a historical request interrupted
 * sends CANCEL_HISTORICAL_DATA), typed IB errors, and informational codes (165, 2174, 2188, …) that
 * never fail it. Uses the event-level IBApi: IBApiNext's promises can be neither cancelled nor timed out.
 */
import { EventName, type Contract, type ContractDetails, type IBApi } from "@stoqey/ib"
import { Clock, Context, Deferred, Duration, Effect, Layer, Ref, Schedule } from "effect"
import { parseIbBarTime, presentOrNull, type Bar } from "../domain/Bar.ts"
import { IbError } from "../domain/errors.ts"
import type { IbErrorCategory } from "../domain/IbErrorCodes.ts"
import { isInformational } from "../domain/IbErrorCodes.ts"
import { formatIbUtc, parseBarSize } from "../domain/IbHistoricalRules.ts"
import { paceRequestOf } from "../domain/PacingRules.ts"
import type { ContractFacts, IbContractSpec } from "../domain/Instrument.ts"
import { IbConnection } from "./IbConnection.ts"
import type { IbSession } from "./ibSession.ts"
import { PaceGate } from "./PaceGate.ts"
import { logExit, type RequestKind } from "./requestLog.ts"

export type SecType = "STK" | "CASH" | "FUT" | "IND" | "CONTFUT"
export type WhatToShow = "TRADES" | "MIDPOINT" | "BID" | "ASK" | "BID_ASK" | "ADJUSTED_LAST"

/** The domain's contract spec, with the one extra kind the client can send (continuous futures). */
export interface ContractSpec extends Omit<IbContractSpec, "secType"> {
  readonly secType?: SecType
}

/** Contract details as this client returns them: the facts an Instrument is built from, plus a few more. */
export interface ContractInfo extends ContractFacts {
  readonly tradingClass: string
  readonly minTick: number
  readonly validExchanges: string
  readonly realExpirationDate: string
}

export interface HistoricalRequest {
  readonly contract: ContractSpec
  /** Epoch ms of the window's end, or "now". Sent as `yyyyMMdd-HH:mm:ss` (UTC). */
  readonly end: number | "now"
  /** IB duration string, e.g. "1 D", "3600 S". */
  readonly duration: string
  /** IB bar size, e.g. "1 min", "1 day". */
  readonly barSize: string
  readonly whatToShow: WhatToShow
  readonly useRTH: boolean
  /** The contract's zone (contract details' timeZoneId), for bar times sent without one. */
  readonly timeZone?: string
}

export interface ClientStats {
  readonly requestsOk: number
  readonly requestsFailed: Readonly<Record<string, number>>
  readonly barsReceived: number
  readonly pacingRetries: number
  readonly cancelsSent: number
  /** Epoch ms of the last request that succeeded; null before any. */
  readonly lastOkAt?: number | null
}

/** Stats of a client that has sent nothing yet. */
export const noClientStats: ClientStats = {
  requestsOk: 0,
  requestsFailed: {},
  barsReceived: 0,
  pacingRetries: 0,
  cancelsSent: 0,
  lastOkAt: null
}

export class IbClient extends Context.Tag("ktrdr/IbClient")<IbClient, {
  /** Gateway time, epoch seconds. */
  readonly currentTime: Effect.Effect<number, IbError>
  readonly contractDetails: (c: ContractSpec) => Effect.Effect<ReadonlyArray<ContractInfo>, IbError>
  /** First instant with data, epoch ms. */
  readonly headTimestamp: (
    c: ContractSpec,
    o: { readonly whatToShow: WhatToShow; readonly useRTH: boolean }
  ) => Effect.Effect<number, IbError>
  readonly historicalBars: (r: HistoricalRequest) => Effect.Effect<ReadonlyArray<Bar>, IbError>
  readonly stats: Effect.Effect<ClientStats>
}>() {}

const toContract = (c: ContractSpec): Contract => {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(c)) if (v !== undefined) out[k] = v
  return out as Contract
}

/**
 * Gateways before server version 182 send no `lastTradeDate` (and before 134 no `realExpirationDate`); the
 * date still leads `lastTradeDateOrContractMonth` ("20261218" or "20261218 08:30 US/Central"), so take it there.
 */
const expiryOf = (d: ContractDetails): string =>
  d.contract.lastTradeDate || (/^(\d{8})(?:\s|$)/.exec(d.contract.lastTradeDateOrContractMonth ?? "")?.[1] ?? "")

const toInfo = (d: ContractDetails): ContractInfo => ({
  conId: d.contract.conId ?? 0,
  symbol: d.contract.symbol ?? "",
  secType: String(d.contract.secType ?? ""),
  exchange: d.contract.exchange ?? "",
  primaryExch: d.contract.primaryExch ?? "",
  currency: d.contract.currency ?? "",
  localSymbol: d.contract.localSymbol ?? "",
  tradingClass: d.contract.tradingClass ?? "",
  longName: d.longName ?? "",
  minTick: d.minTick ?? 0,
  multiplier: d.contract.multiplier ? String(d.contract.multiplier) : "",
  timeZoneId: d.timeZoneId ?? "",
  tradingHours: d.tradingHours ?? "",
  liquidHours: d.liquidHours ?? "",
  validExchanges: d.validExchanges ?? "",
  lastTradeDate: expiryOf(d),
  realExpirationDate: d.realExpirationDate || expiryOf(d),
  contractMonth: d.contractMonth ?? ""
})

/** Fails the request on an error event for its id, unless the code is informational. */
const onRequestError = (api: IBApi, reqId: number, fail: (e: IbError) => void) => {
  const h = (err: Error, code: number, id: number) => {
    if (id !== reqId) return
    const message = err?.message ?? String(err)
    if (!isInformational(code, message)) fail(IbError.fromIb(code, id, message))
  }
  api.on(EventName.error, h)
  return () => void api.off(EventName.error, h)
}

export const make = Effect.gen(function*() {
  const conn = yield* IbConnection
  const gate = yield* PaceGate
  const cfg = conn.settings
  const stats = yield* Ref.make<ClientStats>(noClientStats)
  const failed = (c: IbErrorCategory) =>
    Ref.update(stats, (s) => ({ ...s, requestsFailed: { ...s.requestsFailed, [c]: (s.requestsFailed[c] ?? 0) + 1 } }))

  /**
   * Runs one request on the live session: `start` registers listeners and sends, returning its
   * cleanup; the request fails with the session's loss, and times out after requestTimeout.
   */
  const request = <A>(
    name: RequestKind,
    historical: boolean,
    start: (s: IbSession, reqId: number, done: (r: Effect.Effect<A, IbError>) => void) => () => void
  ): Effect.Effect<A, IbError> =>
    Effect.gen(function*() {
      const s = yield* conn.session({ historical })
      const reqId = yield* conn.nextReqId
      const run = Effect.async<A, IbError>((resume) => {
        let settled = false
        const done = (r: Effect.Effect<A, IbError>) => {
          if (settled) return
          settled = true
          resume(r)
        }
        const cleanup = start(s, reqId, done)
        return Effect.sync(() => {
          cleanup()
        })
      })
      return yield* Effect.raceFirst(run, Deferred.await(s.lost)).pipe(
        Effect.timeoutFail({
          duration: cfg.requestTimeout,
          onTimeout: () =>
            IbError.of(
              "timeout",
              `${name === "historical" ? "historicalBars" : name} (request ${reqId}) got no answer within ${
                Duration.format(cfg.requestTimeout)
              }`,
              reqId
            )
        }),
        // Sent (there was a session): counted for whoever runs a RequestLog, however it ended.
        Effect.onExit(logExit(name))
      )
    }).pipe(
      Effect.tap(() =>
        Effect.flatMap(Clock.currentTimeMillis, (at) =>
          Ref.update(stats, (st) => ({ ...st, requestsOk: st.requestsOk + 1, lastOkAt: at })))
      ),
      Effect.tapError((e) =>
        failed(e.category).pipe(Effect.zipRight(conn.recordError(e)))
      )
    )

  const currentTime = request<number>("currentTime", false, (s, _reqId, done) => {
    const on = (t: number) => done(Effect.succeed(t))
    s.api.once(EventName.currentTime, on)
    s.api.reqCurrentTime()
    return () => void s.api.off(EventName.currentTime, on)
  })

  const contractDetails = (c: ContractSpec) =>
    request<ReadonlyArray<ContractInfo>>("contractDetails", false, (s, reqId, done) => {
      const acc: Array<ContractInfo> = []
      const onData = (id: number, d: ContractDetails) => void (id === reqId && acc.push(toInfo(d)))
      const onEnd = (id: number) => void (id === reqId && done(Effect.succeed(acc)))
      s.api.on(EventName.contractDetails, onData)
      s.api.on(EventName.contractDetailsEnd, onEnd)
      const offErr = onRequestError(s.api, reqId, (e) => done(Effect.fail(e)))
      s.api.reqContractDetails(reqId, toContract(c))
      return () => {
        s.api.off(EventName.contractDetails, onData)
        s.api.off(EventName.contractDetailsEnd, onEnd)
        offErr()
      }
    })

  const headTimestamp = (c: ContractSpec, o: { readonly whatToShow: WhatToShow; readonly useRTH: boolean }) =>
    request<number>("headTimestamp", true, (s, reqId, done) => {
      const on = (id: number, ts: string) => {
        if (id !== reqId) return
        // IB keeps a head-timestamp query open until cancelled (IBApiNext cancels too).
        s.api.cancelHeadTimestamp(reqId)
        // Asked with formatDate 2: epoch seconds, whatever their digit count (1973 is 8 digits).
        const ms = /^\d+$/.test(ts) ? Number(ts) * 1000 : parseIbBarTime(ts.replace("-", " "), "UTC")
        done(
          ms === undefined
            ? Effect.fail(IbError.of("other", `unparseable head timestamp ${JSON.stringify(ts)}`, reqId))
            : Effect.succeed(ms)
        )
      }
      s.api.on(EventName.headTimestamp, on)
      const offErr = onRequestError(s.api, reqId, (e) => done(Effect.fail(e)))
      s.api.reqHeadTimestamp(reqId, toContract(c), o.whatToShow as never, o.useRTH, 2)
      return () => {
        s.api.off(EventName.headTimestamp, on)
        offErr()
      }
    })

  /** One historical request on the wire; interruption before the end marker sends the cancel. */
  const fetchBars = (r: HistoricalRequest) =>
    request<ReadonlyArray<Bar>>("historical", true, (s, reqId, done) => {
      const bars: Array<Bar> = []
      const zone = r.timeZone ?? "America/New_York"
      let finished = false
      const on = (
        id: number,
        time: string,
        open: number,
        high: number,
        low: number,
        close: number,
        volume: number,
        count: number | undefined,
        wap: number
      ) => {
        if (id !== reqId) return
        if (time.startsWith("finished")) {
          finished = true
          return done(Effect.succeed(bars))
        }
        const t = parseIbBarTime(time, zone)
        if (t === undefined) {
          return done(Effect.fail(IbError.of("other", `unparseable bar time ${JSON.stringify(time)}`, reqId)))
        }
        bars.push({
          time: t,
          open,
          high,
          low,
          close,
          volume: presentOrNull(volume),
          wap: presentOrNull(wap),
          count: presentOrNull(count)
        })
      }
      s.api.on(EventName.historicalData, on)
      const offErr = onRequestError(s.api, reqId, (e) => done(Effect.fail(e)))
      const end = r.end === "now" ? "" : formatIbUtc(r.end)
      s.api.reqHistoricalData(
        reqId,
        toContract(r.contract),
        end,
        r.duration,
        r.barSize as never,
        r.whatToShow as never,
        r.useRTH ? 1 : 0,
        2,
        false
      )
      return () => {
        s.api.off(EventName.historicalData, on)
        offErr()
        if (!finished && s.api.isConnected) {
          s.api.cancelHistoricalData(reqId)
          Effect.runSync(Ref.update(stats, (st) => ({ ...st, cancelsSent: st.cancelsSent + 1 })))
        }
      }
    })

  const pacingBackoff = Duration.millis(Duration.toMillis(cfg.pacingBackoff) / cfg.pacingTimeScale)

  const historicalBars = (r: HistoricalRequest): Effect.Effect<ReadonlyArray<Bar>, IbError> => {
    const bar = parseBarSize(r.barSize)
    if (!bar) return Effect.fail(IbError.of("validation", `invalid bar size ${JSON.stringify(r.barSize)}`))
    const paced = gate.run(paceRequestOf(r, bar), fetchBars(r))
    return paced.pipe(
      // The gate should make this impossible; if the gateway disagrees, wait one step per retry.
      Effect.tapError((
        e
      ) => (e.category === "pacing"
        ? Ref.update(stats, (s) => ({ ...s, pacingRetries: s.pacingRetries + 1 }))
        : Effect.void)
      ),
      Effect.retry({
        schedule: Schedule.spaced(pacingBackoff).pipe(Schedule.intersect(Schedule.recurs(5))),
        while: (e) => e.category === "pacing"
      }),
      Effect.tap((bars) => Ref.update(stats, (s) => ({ ...s, barsReceived: s.barsReceived + bars.length })))
    )
  }

  return IbClient.of({ currentTime, contractDetails, headTimestamp, historicalBars, stats: Ref.get(stats) })
})

export const IbClientLive = Layer.effect(IbClient, make)
