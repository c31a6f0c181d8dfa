/** Log format and level from `KTRDR_LOG_FORMAT` (logfmt | json | pretty) and `KTRDR_LOG_LEVEL` (Info). */
import { Config, ConfigError, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { LOG_LEVEL_NAMES, parseLogLevel } from "../domain/logLevel.ts"

/** `KTRDR_LOG_LEVEL` in any usual spelling (`warning`, `WARN`, `Info`…); anything else names what is accepted. */
export const LogLevelConfig = Config.string("KTRDR_LOG_LEVEL").pipe(
  Config.mapOrFail((s) => {
    const level = parseLogLevel(s)
    return level
      ? Either.right(level)
      : Either.left(
        ConfigError.InvalidData([], `KTRDR_LOG_LEVEL=${s} is not a log level; use one of ${LOG_LEVEL_NAMES.join(", ")}`)
      )
  }),
  Config.withDefault(LogLevel.Info)
)

export const LoggingLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const format = yield* Config.literal("logfmt", "json", "pretty")("KTRDR_LOG_FORMAT").pipe(
      Config.withDefault("logfmt" as const)
    )
    const level = yield* LogLevelConfig
    const logger = format === "json" ? Logger.json : format === "pretty" ? Logger.pretty : Logger.logFmt
    return Layer.merge(logger, Logger.minimumLogLevel(level))
  })
)
