/** Data-layer settings from `KTRDR_*` environment variables (README lists them with their defaults). */
import { Config, ConfigProvider, Context, Effect, Layer } from "effect"

export type AssetClass = "STK" | "CASH" | "FUT" | "IND"
export type BarSource = "TRADES" | "MIDPOINT" | "BID" | "ASK"

export interface DataSettings {
  /** Where `<SYMBOL>_<TF>.csv` files and `symbol_discovery_cache.json` live. */
  readonly dataDir: string
  /** Save merged bars after this many fetched segments… */
  readonly checkpointEverySegments: number
  /** …or after this long, whichever comes first. */
  readonly checkpointEveryMs: number
  /** Segments requested at once by one load. */
  readonly segmentsInFlight: number
  /** Request regular trading hours only, as KTRDR does, so existing files stay consistent. */
  readonly useRTH: boolean
  /** What each asset class downloads (KTRDR: TRADES, forex BID). */
  readonly whatToShow: Readonly<Record<AssetClass, BarSource>>
  /** Free disk a load must leave after writing what it expects to fetch (checked before its first request). */
  readonly minFreeBytes: number
}

const positive = (name: string, fallback: number) =>
  Config.integer(name).pipe(
    Config.validate({ message: `${name} must be a positive integer`, validation: (n) => n > 0 }),
    Config.withDefault(fallback)
  )

const source = (name: string, fallback: BarSource) =>
  Config.literal("TRADES", "MIDPOINT", "BID", "ASK")(name).pipe(Config.withDefault(fallback))

export const DataSettingsConfig: Config.Config<DataSettings> = Config.all({
  dataDir: Config.string("KTRDR_DATA_DIR").pipe(Config.withDefault("./data")),
  checkpointEverySegments: positive("KTRDR_CHECKPOINT_SEGMENTS", 10),
  checkpointEveryMs: positive("KTRDR_CHECKPOINT_MS", 30_000),
  segmentsInFlight: positive("KTRDR_SEGMENTS_IN_FLIGHT", 4),
  useRTH: Config.boolean("KTRDR_USE_RTH").pipe(Config.withDefault(true)),
  minFreeBytes: Config.number("KTRDR_MIN_FREE_BYTES").pipe(
    Config.validate({ message: "KTRDR_MIN_FREE_BYTES must be ≥ 0", validation: (n) => n >= 0 }),
    Config.withDefault(100 * 1_048_576)
  ),
  whatToShow: Config.all({
    STK: source("KTRDR_WHAT_TO_SHOW_STK", "TRADES"),
    CASH: source("KTRDR_WHAT_TO_SHOW_CASH", "BID"),
    FUT: source("KTRDR_WHAT_TO_SHOW_FUT", "TRADES"),
    IND: source("KTRDR_WHAT_TO_SHOW_IND", "TRADES")
  })
})

const emptyProvider = ConfigProvider.fromMap(new Map())

export class DataConfig extends Context.Tag("ktrdr/DataConfig")<DataConfig, DataSettings>() {
  static readonly layer = Layer.effect(DataConfig, DataSettingsConfig)
  /** Defaults overridden explicitly (tests, embedding); the environment is not read. */
  static readonly make = (overrides: Partial<DataSettings>) =>
    Layer.effect(
      DataConfig,
      Effect.map(Effect.withConfigProvider(DataSettingsConfig, emptyProvider), (d) => ({ ...d, ...overrides }))
    )
}
