/** The HTTP server's settings from `KTRDR_API_*` (KTRDR declared these names but never read them). */
import { Config, Context, Layer, Option, Redacted } from "effect"

export interface ApiSettings {
  readonly host: string
  readonly port: number
  /** When set, every endpoint but /health needs `Authorization: Bearer <token>`. */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** Exact origins, or `scheme://host:*` for any port of a host. */
  readonly corsOrigins: ReadonlyArray<string>
  readonly maxBodyBytes: number
  /** Byte budget of the in-memory cache of encoded bar responses. */
  readonly barCacheBytes: number
  readonly version: string
  /** With a token: also serve /api/v1/docs and /api/v1/openapi.json without it (KTRDR_API_PUBLIC_DOCS). */
  readonly publicDocs: boolean
}

export const DEFAULT_CORS = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]

export const ApiSettingsConfig: Config.Config<ApiSettings> = Config.all({
  host: Config.string("KTRDR_API_HOST").pipe(Config.withDefault("127.0.0.1")),
  port: Config.port("KTRDR_API_PORT").pipe(Config.withDefault(8000)),
  token: Config.option(Config.redacted("KTRDR_API_TOKEN")).pipe(
    Config.map(Option.filter((t) => Redacted.value(t).trim() !== ""))
  ),
  corsOrigins: Config.string("KTRDR_API_CORS_ORIGINS").pipe(
    Config.map((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== "")),
    Config.withDefault(DEFAULT_CORS)
  ),
  maxBodyBytes: Config.integer("KTRDR_API_MAX_BODY_BYTES").pipe(Config.withDefault(1_048_576)),
  barCacheBytes: Config.integer("KTRDR_API_BAR_CACHE_BYTES").pipe(Config.withDefault(64 * 1_048_576)),
  version: Config.string("KTRDR_API_VERSION").pipe(Config.withDefault("0.1.0")),
  publicDocs: Config.boolean("KTRDR_API_PUBLIC_DOCS").pipe(Config.withDefault(false))
})

export class ApiConfig extends Context.Tag("ktrdr/ApiConfig")<ApiConfig, ApiSettings>() {
  static readonly layer = Layer.effect(ApiConfig, ApiSettingsConfig)
  static make = (overrides: Partial<ApiSettings> = {}) =>
    Layer.succeed(ApiConfig, {
      host: "127.0.0.1",
      port: 0,
      token: Option.none(),
      corsOrigins: DEFAULT_CORS,
      maxBodyBytes: 1_048_576,
      barCacheBytes: 64 * 1_048_576,
      version: "0.1.0",
      publicDocs: false,
      ...overrides
    })
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"])
export const isLoopback = (host: string) => LOOPBACK.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host)

export const originAllowed = (origin: string | undefined, allowed: ReadonlyArray<string>) =>
  origin !== undefined &&
  allowed.some((a) =>
    a === "*" || a === origin ||
    (a.endsWith(":*") && origin.startsWith(a.slice(0, -1)) && /^\d+$/.test(origin.slice(a.length - 1)))
  )
