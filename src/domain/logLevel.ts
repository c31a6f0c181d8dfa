/**
 * Log levels as people write them: any case, Python's names (`WARNING`, `CRITICAL`) and the usual short
 * forms, so `KTRDR_LOG_LEVEL=warning` (KTRDR's own spelling) works instead of stopping the server.
 */
import { LogLevel } from "effect"

const byName: Record<string, LogLevel.LogLevel> = {
  all: LogLevel.All,
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  information: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  err: LogLevel.Error,
  fatal: LogLevel.Fatal,
  critical: LogLevel.Fatal,
  none: LogLevel.None,
  off: LogLevel.None
}

export const LOG_LEVEL_NAMES = Object.keys(byName)

/** The level a name stands for, or undefined for a name that is none of `LOG_LEVEL_NAMES` (any case). */
export const parseLogLevel = (name: string): LogLevel.LogLevel | undefined => byName[name.trim().toLowerCase()]
