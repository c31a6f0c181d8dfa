/**
 * The process exit code, decided in one place: 0 ok, 1 failure, 2 usage, 130 interrupted by SIGINT
 * (143 by SIGTERM). `serve` and `sim` end by a signal as their normal stop, so for them it means 0.
 */
import { Cause, Exit } from "effect"

let signal: "SIGINT" | "SIGTERM" | null = null
let stopBySignalIsSuccess = false
let code = 0

/** Registered beside runMain's own handlers (which interrupt the main fiber): only records which signal came. */
export const watchSignals = () => {
  process.once("SIGINT", () => {
    signal ??= "SIGINT"
  })
  process.once("SIGTERM", () => {
    signal ??= "SIGTERM"
  })
}

export const setExitCode = (c: number) => {
  code = c
}
export const signalIsNormalStop = () => {
  stopBySignalIsSuccess = true
}

export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): number => {
  if (Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) {
    return stopBySignalIsSuccess ? 0 : signal === "SIGTERM" ? 143 : 130
  }
  return Exit.isFailure(exit) ? 1 : code
}

export { exitWhenFlushed } from "./flushExit.ts"
