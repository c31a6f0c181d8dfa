/**
 * `KTRDR_DATABASE_URL`: set to a `postgres://…` URL, bars and the symbol cache live in that PostgreSQL database
 * (shared by every process pointed at it); unset, in KTRDR's CSV files under KTRDR_DATA_DIR. The URL is read as a
 * Redacted value: it may carry a password, which no log line or error message shows.
 */
import { Config, ConfigError, Context, Either, Layer, Option, Redacted } from "effect"

export interface DatabaseSettings {
  readonly url: Option.Option<Redacted.Redacted<string>>
}

/** Where a URL points, for people: `host:port/database`, never the user or password. */
export const describeDatabase = (url: string): string => {
  try {
    const u = new URL(url)
    const socket = u.searchParams.get("host")
    const host = socket ?? (u.hostname === "" ? "localhost" : decodeURIComponent(u.hostname))
    const db = decodeURIComponent(u.pathname.replace(/^\//, "")) || "postgres"
    return `${host}:${u.port || "5432"}/${db}`
  } catch {
    return "(unparseable URL)"
  }
}

const databaseUrl = Config.redacted("KTRDR_DATABASE_URL").pipe(
  Config.mapOrFail((url) => {
    const raw = Redacted.value(url).trim()
    return /^postgres(ql)?:\/\//.test(raw) && describeDatabase(raw) !== "(unparseable URL)"
      ? Either.right(Redacted.make(raw))
      : Either.left(
        ConfigError.InvalidData(
          ["KTRDR_DATABASE_URL"],
          "expected a URL such as postgres://user:password@host:5432/ktrdr (leave it unset for the CSV store)"
        )
      )
  }),
  Config.option
)

export const DatabaseSettingsConfig: Config.Config<DatabaseSettings> = Config.all({ url: databaseUrl })

export class DatabaseConfig extends Context.Tag("ktrdr/DatabaseConfig")<DatabaseConfig, DatabaseSettings>() {
  static readonly layer = Layer.effect(DatabaseConfig, DatabaseSettingsConfig)
  /** An explicit database (tests, embedding), or none (the CSV store), whatever the environment says. */
  static readonly make = (url: string | undefined) =>
    Layer.succeed(DatabaseConfig, { url: Option.map(Option.fromNullable(url), Redacted.make) })
}
