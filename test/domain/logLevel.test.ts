import { ConfigProvider, Effect, LogLevel } from "effect"
import { describe, expect, it } from "vitest"
import { parseLogLevel } from "../../src/domain/logLevel.ts"
import { LogLevelConfig } from "../../src/layers/Logging.ts"

const fromEnv = (value: string | undefined) =>
  Effect.runSyncExit(
    Effect.withConfigProvider(
      LogLevelConfig,
      ConfigProvider.fromMap(new Map(value === undefined ? [] : [["KTRDR_LOG_LEVEL", value]]))
    )
  )

describe("log levels", () => {
  it("any case and the usual spellings: warning, WARN, Warning, critical, Info", () => {
    expect(parseLogLevel("warning")).toBe(LogLevel.Warning)
    expect(parseLogLevel("WARN")).toBe(LogLevel.Warning)
    expect(parseLogLevel(" Warning ")).toBe(LogLevel.Warning)
    expect(parseLogLevel("CRITICAL")).toBe(LogLevel.Fatal)
    expect(parseLogLevel("Info")).toBe(LogLevel.Info)
    expect(parseLogLevel("debug")).toBe(LogLevel.Debug)
    expect(parseLogLevel("loud")).toBeUndefined()
  })

  it("KTRDR_LOG_LEVEL: default Info; a bad value fails naming the variable, the value and what is accepted", () => {
    expect(fromEnv(undefined)).toStrictEqual(Effect.runSyncExit(Effect.succeed(LogLevel.Info)))
    expect(fromEnv("warning")).toStrictEqual(Effect.runSyncExit(Effect.succeed(LogLevel.Warning)))
    const bad = fromEnv("loud")
    expect(bad._tag).toBe("Failure")
    expect(String(bad._tag === "Failure" ? bad.cause : "")).toMatch(/KTRDR_LOG_LEVEL=loud .*warning/)
  })
})
