/** Log format and level from `KTRDR_LOG_FORMAT` (logfmt | json | pretty) and `KTRDR_LOG_LEVEL` (Info). */
import { Config, Effect, Layer, Logger, LogLevel } from "effect"

export const LoggingLive = Layer.unwrapEffect(
  Effect.gen(function*() {
    const format = yield* Config.literal("logfmt", "json", "pretty")("KTRDR_LOG_FORMAT").pipe(
      Config.withDefault("logfmt" as const)
    )
    const level = yield* Config.logLevel("KTRDR_LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info))
    const logger = format === "json" ? Logger.json : format === "pretty" ? Logger.pretty : Logger.logFmt
    return Layer.merge(logger, Logger.minimumLogLevel(level))
  })
)
