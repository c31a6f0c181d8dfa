/**
 * IbClient over HTTP (DESIGN: "IbClient has a second implementation"): a process that does not own the
 * gateway session reaches the owning server's /api/v1/ib/* host endpoints with the client derived from
 * the contract. It opens no IB socket. Errors come back as the host's IbError (same code, request id,
 * category, retryability); a host that cannot be reached is a retryable connectivity IbError.
 * Interrupting a call aborts its HTTP request; the host's handler is then interrupted and cancels the
 * request at the gateway.
 *
 * Pacing: historical requests also pass a local PaceGate before they are sent. The host's gate is the
 * one that keeps the gateway safe (it sees every process's requests); the local one is only stricter,
 * keeps this process's queue here (where interrupting it costs no HTTP request), and makes
 * DataManager's pacing-wait figures real. It needs IbConfig, which has defaults for every setting.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import {
  Clock,
  Config,
  ConfigError,
  Context,
  Duration,
  Effect,
  Either,
  Layer,
  Option,
  ParseResult,
  Redacted,
  Ref,
  Schema
} from "effect"
import type { Bar } from "../domain/Bar.ts"
import { IbError } from "../domain/errors.ts"
import type { IbErrorCategory } from "../domain/IbErrorCodes.ts"
import { parseBarSize } from "../domain/IbHistoricalRules.ts"
import { LONG_WINDOW_MS, paceRequestOf, type PaceRequest } from "../domain/PacingRules.ts"
import { KtrdrApi } from "../contract/Api.ts"
import type { IbStatusData } from "../contract/api/ib.ts"
import { ContractSpecWire, HistoricalRequestWire, ibErrorFromEnvelope } from "../contract/ibWire.ts"
import { IbConfig } from "./Config.ts"
import { GatewayInfo } from "./GatewayInfo.ts"
import { IbClient, type ClientStats, type ContractSpec, type HistoricalRequest, type WhatToShow } from "./IbClient.ts"
import { PaceGate } from "./PaceGate.ts"
import { logExit, type RequestKind } from "./requestLog.ts"

export interface RemoteIbOptions {
  /** The owning server's base URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string
  /** Sent as `Authorization: Bearer <token>` when set (the host's KTRDR_API_TOKEN). */
  readonly token?: Redacted.Redacted<string> | undefined
  /** GatewayInfo.simulated when the host's /health cannot be read at startup (it says so itself otherwise). */
  readonly simulated?: boolean | undefined
}

/** A base URL: http(s) only, no trailing slash. */
export const parseHostUrl = (raw: string): Either.Either<string, string> => {
  let u: URL
  try {
    u = new URL(raw.trim())
  } catch {
    return Either.left(`not a URL: ${JSON.stringify(raw)}`)
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return Either.left(`expected an http(s) URL, got ${JSON.stringify(raw)}`)
  }
  return Either.right(`${u.protocol}//${u.host}${u.pathname}`.replace(/\/+$/, ""))
}

/** `KTRDR_IB_HOST_SERVICE_URL` (unset or empty: this process owns the session) and `KTRDR_API_TOKEN`. */
export const RemoteIbConfig: Config.Config<Option.Option<RemoteIbOptions>> = Config.all({
  url: Config.option(Config.string("KTRDR_IB_HOST_SERVICE_URL")),
  token: Config.option(Config.redacted("KTRDR_API_TOKEN"))
}).pipe(
  Config.mapOrFail(({ url, token }) => {
    const raw = Option.getOrElse(url, () => "")
    if (raw.trim() === "") return Either.right(Option.none())
    const t = Option.filter(token, (x) => Redacted.value(x).trim() !== "")
    return Either.match(parseHostUrl(raw), {
      onLeft: (m) => Either.left(ConfigError.InvalidData(["KTRDR_IB_HOST_SERVICE_URL"], m)),
      onRight: (u) => Either.right(Option.some({ url: u, token: Option.getOrUndefined(t) }))
    })
  })
)

export interface RemoteActivity {
  /** Epoch ms of this process's last request the host answered successfully. */
  readonly lastOkAt: number | null
  readonly lastFailure: {
    readonly code: number
    readonly category: IbErrorCategory
    readonly message: string
    readonly at: number
  } | null
}

/** What the /ib/* status endpoints of a remote-mode process report beyond IbClient. */
export class RemoteIbHost extends Context.Tag("ktrdr/RemoteIbHost")<RemoteIbHost, {
  readonly url: string
  /** The host's own /ib/status (its gateway session). */
  readonly status: Effect.Effect<IbStatusData, IbError>
  readonly activity: Effect.Effect<RemoteActivity>
}>() {}

type ClientFailure = HttpClientError.HttpClientError | ParseResult.ParseError | {
  readonly _tag: string
  readonly message: string
  readonly details?: unknown
}

const describe = (cause: unknown): string => {
  const inner = (cause as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (inner && typeof inner.code === "string") return inner.code
  return cause instanceof Error ? cause.message : String(cause)
}

/** The local pace gate's view of a request: the same one IbClient gives it on the host. */
const paceRequest = (r: HistoricalRequest): PaceRequest => paceRequestOf(r, parseBarSize(r.barSize)!)

const validate = <A, I>(schema: Schema.Schema<A, I>, what: string) => {
  const check = Schema.validate(schema)
  const issues = (e: ParseResult.ParseError) =>
    ParseResult.ArrayFormatter.formatErrorSync(e).slice(0, 5).map((i) =>
      `${i.path.length > 0 ? `${i.path.join(".")}: ` : ""}${i.message}`
    ).join("; ")
  return (a: A) => Effect.mapError(check(a), (e) => IbError.of("validation", `invalid ${what}: ${issues(e)}`))
}

const make = (o: RemoteIbOptions) =>
  Effect.gen(function*() {
    const cfg = yield* IbConfig
    const gate = yield* PaceGate
    const url = o.url
    const token = o.token
    const client = yield* HttpApiClient.make(KtrdrApi, {
      baseUrl: url,
      ...(token === undefined
        ? {}
        : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(token))) })
    })

    const toIbError = (e: ClientFailure): IbError => {
      if (HttpClientError.isHttpClientError(e)) {
        return e._tag === "RequestError" && e.reason === "Transport"
          ? IbError.of("connectivity", `IB host service ${url} is unreachable (${describe(e.cause)})`)
          : IbError.of("other", `IB host service ${url} answered unexpectedly: ${e.message}`)
      }
      if (ParseResult.isParseError(e)) {
        return IbError.of("other", `IB host service ${url} answered something this client cannot read: ${e.message}`)
      }
      const ib = ibErrorFromEnvelope(e)
      if (ib) {
        return ib
      }
      switch (e._tag) {
        case "Unauthorized":
          return IbError.of(
            "permission",
            `IB host service ${url} refused the request: ${e.message} (KTRDR_API_TOKEN must be its token)`
          )
        case "BadRequest":
          return IbError.of("validation", `IB host service ${url} rejected the request: ${e.message}`)
        case "GatewayUnavailable":
          return IbError.of("connectivity", `IB host service ${url}: ${e.message}`)
        default:
          return IbError.of("other", `IB host service ${url}: ${e.message}`)
      }
    }

    const stats = yield* Ref.make<ClientStats & RemoteActivity>({
      requestsOk: 0,
      requestsFailed: {},
      barsReceived: 0,
      pacingRetries: 0,
      cancelsSent: 0,
      lastOkAt: null,
      lastFailure: null
    })

    // The host bounds each gateway request by its own requestTimeout (after waiting for a session up to as long);
    // these only guard against a host that accepted the request and went silent.
    const shortLimit = Duration.sum(Duration.times(cfg.requestTimeout, 2), Duration.seconds(5))
    // Historical requests may also queue in the host's pace gate behind other processes, up to IB's 10-minute window.
    const longLimit = Duration.sum(shortLimit, Duration.millis(LONG_WINDOW_MS / cfg.pacingTimeScale))

    const ask = <A>(
      name: string,
      limit: Duration.Duration,
      self: Effect.Effect<A, ClientFailure>
    ): Effect.Effect<A, IbError> =>
      self.pipe(
        Effect.mapError(toIbError),
        Effect.timeoutFail({
          duration: limit,
          onTimeout: () =>
            IbError.of("timeout", `${name}: IB host service ${url} gave no answer within ${Duration.format(limit)}`)
        })
      )

    /** A gateway request through the host, counted in this process's stats. */
    const call = <A>(
      name: string,
      kind: RequestKind,
      limit: Duration.Duration,
      self: Effect.Effect<A, ClientFailure>
    ): Effect.Effect<A, IbError> =>
      ask(name, limit, self).pipe(
        Effect.onExit(logExit(kind)),
        Effect.tap(() =>
          Effect.flatMap(
            Clock.currentTimeMillis,
            (at) => Ref.update(stats, (s) => ({ ...s, requestsOk: s.requestsOk + 1, lastOkAt: at }))
          )
        ),
        Effect.tapError((e) =>
          Effect.flatMap(Clock.currentTimeMillis, (at) =>
            Ref.update(stats, (s) => ({
              ...s,
              requestsFailed: { ...s.requestsFailed, [e.category]: (s.requestsFailed[e.category] ?? 0) + 1 },
              lastFailure: { code: e.code, category: e.category, message: e.message, at }
            })))
        )
      )

    const checkContract = validate(ContractSpecWire, "contract")
    const checkHistorical = validate(HistoricalRequestWire, "historical request")

    const currentTime = call("currentTime", "currentTime", shortLimit, client.ibHost.currentTime()).pipe(
      Effect.map((r) => r.data.time)
    )

    const contractDetails = (c: ContractSpec) =>
      checkContract(c).pipe(
        Effect.zipRight(call("contractDetails", "contractDetails", shortLimit, client.ibHost.contract({ payload: c }))),
        Effect.map((r) => r.data.contracts)
      )

    const headTimestamp = (c: ContractSpec, opts: { readonly whatToShow: WhatToShow; readonly useRTH: boolean }) =>
      checkContract(c).pipe(
        Effect.zipRight(
          call(
            "headTimestamp",
            "headTimestamp",
            shortLimit,
            client.ibHost.headTimestamp({ urlParams: { ...c, whatToShow: opts.whatToShow, useRTH: opts.useRTH } })
          )
        ),
        Effect.map((r) => r.data.timestamp)
      )

    const historicalBars = (r: HistoricalRequest): Effect.Effect<ReadonlyArray<Bar>, IbError> =>
      checkHistorical(r).pipe(
        // After validation: the pace key needs a valid bar size.
        Effect.zipRight(
          Effect.suspend(() =>
            gate.run(
              paceRequest(r),
              call("historicalBars", "historical", longLimit, client.ibHost.historical({ payload: r }))
            )
          )
        ),
        Effect.map((res) => res.data.bars),
        Effect.tap((bars) => Ref.update(stats, (s) => ({ ...s, barsReceived: s.barsReceived + bars.length }))),
        // An interrupted call aborts its HTTP request, which the host turns into CANCEL_HISTORICAL_DATA.
        Effect.onInterrupt(() => Ref.update(stats, (s) => ({ ...s, cancelsSent: s.cancelsSent + 1 })))
      )

    const hostHealth = client.health.health().pipe(Effect.timeout(cfg.probeTimeout), Effect.option)
    const simulated = Option.match(yield* hostHealth, {
      onNone: () => o.simulated ?? false,
      onSome: (h) => h.gateway.simulated
    })
    const readiness = Effect.map(
      hostHealth,
      Option.match({
        onNone: () => ({ ready: false, state: "Unreachable" }),
        onSome: (h) => ({ ready: h.gateway.ready, state: h.gateway.state, farms: h.gateway.farms ?? null })
      })
    )

    const clientStats = Effect.map(Ref.get(stats), ({ lastOkAt: _a, lastFailure: _b, ...s }) => s satisfies ClientStats)
    return Context.make(
      IbClient,
      IbClient.of({ currentTime, contractDetails, headTimestamp, historicalBars, stats: clientStats })
    ).pipe(
      Context.add(GatewayInfo, GatewayInfo.remote(simulated, readiness)),
      Context.add(RemoteIbHost, {
        url,
        status: ask("status", shortLimit, client.ib.status()).pipe(Effect.map((r) => r.data)),
        activity: Effect.map(Ref.get(stats), (s) => ({ lastOkAt: s.lastOkAt, lastFailure: s.lastFailure }))
      })
    )
  })

/** IbClient, GatewayInfo and RemoteIbHost over the host at `options.url`, plus this process's PaceGate. */
export const remoteIb = (
  options: RemoteIbOptions
): Layer.Layer<IbClient | GatewayInfo | RemoteIbHost | PaceGate, never, IbConfig> =>
  Layer.effectContext(make(options)).pipe(Layer.provideMerge(PaceGate.layer), Layer.provide(FetchHttpClient.layer))
