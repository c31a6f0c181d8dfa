/**
 * Settings from `KTRDR_*` environment variables, with KTRDR's old unprefixed `IB_HOST`, `IB_PORT`,
 * `IB_CLIENT_ID` honoured when the new names are unset. Durations accept seconds ("10", "2.5") or
 * Effect duration strings ("10 seconds", "500 millis").
 */
import { Config, ConfigError, ConfigProvider, Context, Duration, Effect, Either, Layer, Option } from "effect"

/** Seconds as a number, or any Effect duration string. */
const seconds = (name: string, fallback: number): Config.Config<Duration.Duration> =>
  Config.string(name).pipe(
    Config.mapOrFail((raw) => {
      const s = raw.trim()
      if (/^\d+(\.\d+)?$/.test(s)) return Either.right(Duration.seconds(Number(s)))
      const d = Duration.decodeUnknown(s)
      return Option.isSome(d)
        ? Either.right(d.value)
        : Either.left(
          ConfigError.InvalidData(
            [name],
            `expected seconds or a duration such as "10 seconds", got ${JSON.stringify(raw)}`
          )
        )
    }),
    Config.withDefault(Duration.seconds(fallback))
  )

const withLegacy = <A>(current: Config.Config<A>, legacy: Config.Config<A>, fallback: A): Config.Config<A> =>
  current.pipe(Config.orElse(() => legacy), Config.withDefault(fallback))

const positiveInt = (name: string) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 })
  )

export interface IbSettings {
  readonly host: string
  readonly port: number
  readonly clientId: number
  readonly clientIdAttempts: number
  readonly connectTimeout: Duration.Duration
  readonly requestTimeout: Duration.Duration
  readonly probeInterval: Duration.Duration
  readonly probeTimeout: Duration.Duration
  readonly reconnectBase: Duration.Duration
  readonly reconnectCap: Duration.Duration
  /** Historical requests in flight at once (IB allows 50). */
  readonly maxInFlight: number
  /** Gap kept between historical requests for bars of 1 min and more (IB throttles, softly). */
  readonly largeBarSpacing: Duration.Duration
  /** Wait after a pacing violation reported by the gateway anyway. */
  readonly pacingBackoff: Duration.Duration
  /** Divides every pacing window (only for simulators started with the same --time-scale). */
  readonly pacingTimeScale: number
  /** Apply IB's pacing rules to every bar size, not only ≤ 30 s (a simulator started with --pacing all). */
  readonly paceAllSizes: boolean
}

export const IbSettingsConfig: Config.Config<IbSettings> = Config.all({
  host: withLegacy(Config.string("KTRDR_IB_HOST"), Config.string("IB_HOST"), "127.0.0.1"),
  port: withLegacy(Config.port("KTRDR_IB_PORT"), Config.port("IB_PORT"), 4002),
  clientId: withLegacy(Config.integer("KTRDR_IB_CLIENT_ID"), Config.integer("IB_CLIENT_ID"), 1),
  clientIdAttempts: positiveInt("KTRDR_IB_CLIENT_ID_ATTEMPTS").pipe(Config.withDefault(3)),
  connectTimeout: seconds("KTRDR_IB_CONNECT_TIMEOUT", 10),
  requestTimeout: seconds("KTRDR_IB_REQUEST_TIMEOUT", 60),
  probeInterval: seconds("KTRDR_IB_PROBE_INTERVAL", 30),
  probeTimeout: seconds("KTRDR_IB_PROBE_TIMEOUT", 5),
  reconnectBase: seconds("KTRDR_IB_RECONNECT_BASE", 1),
  reconnectCap: seconds("KTRDR_IB_RECONNECT_CAP", 60),
  maxInFlight: positiveInt("KTRDR_IB_MAX_IN_FLIGHT").pipe(Config.withDefault(4)),
  largeBarSpacing: seconds("KTRDR_IB_LARGE_BAR_SPACING", 0.02),
  pacingBackoff: seconds("KTRDR_IB_PACING_BACKOFF", 30),
  pacingTimeScale: Config.number("KTRDR_IB_PACING_TIME_SCALE").pipe(
    Config.validate({ message: "KTRDR_IB_PACING_TIME_SCALE must be positive", validation: (n) => n > 0 }),
    Config.withDefault(1)
  ),
  paceAllSizes: Config.boolean("KTRDR_IB_PACE_ALL_SIZES").pipe(Config.withDefault(false))
})

const emptyProvider = ConfigProvider.fromMap(new Map())

export class IbConfig extends Context.Tag("ktrdr/IbConfig")<IbConfig, IbSettings>() {
  /** Reads the environment (or the current ConfigProvider) once, when the graph is built. */
  static readonly layer = Layer.effect(IbConfig, IbSettingsConfig)
  /** Explicit settings over the defaults, for tests and embedding. */
  static readonly make = (overrides: Partial<IbSettings>) =>
    Layer.effect(
      IbConfig,
      Effect.map(Effect.withConfigProvider(IbSettingsConfig, emptyProvider), (d) => ({ ...d, ...overrides }))
    )
}
