/**
 * The one timeframe table (KTRDR had four that disagreed, and fell back silently to 1h / "1 day").
 * An unknown timeframe is a typed error.
 */
import { Either } from "effect"
import { InvalidInput } from "./dataErrors.ts"
import type { BarKind } from "./IbHistoricalRules.ts"
import type { TimeframeId } from "./timeframeIds.ts"

export type { TimeframeId } from "./timeframeIds.ts"

export interface Timeframe {
  readonly id: TimeframeId
  /** IB bar-size string (the one @stoqey/ib sends). */
  readonly ibBarSize: string
  /** Nominal bar length in ms; a month counts 30 days (only for ordering and estimates). */
  readonly ms: number
  readonly kind: BarKind
  readonly intraday: boolean
}

const tf = (id: TimeframeId, ibBarSize: string, seconds: number, kind: BarKind = "intraday"): Timeframe => ({
  id,
  ibBarSize,
  ms: seconds * 1000,
  kind,
  intraday: kind === "intraday"
})

export const TIMEFRAMES: ReadonlyArray<Timeframe> = [
  tf("1s", "1 secs", 1),
  tf("5s", "5 secs", 5),
  tf("15s", "15 secs", 15),
  tf("30s", "30 secs", 30),
  tf("1m", "1 min", 60),
  tf("5m", "5 mins", 300),
  tf("15m", "15 mins", 900),
  tf("30m", "30 mins", 1800),
  tf("1h", "1 hour", 3600),
  tf("2h", "2 hours", 7200),
  tf("4h", "4 hours", 14400),
  tf("1d", "1 day", 86400, "day"),
  tf("1w", "1 week", 604800, "week"),
  tf("1M", "1 month", 2592000, "month")
]

const byId = new Map<string, Timeframe>(TIMEFRAMES.map((t) => [t.id, t]))

export const parseTimeframe = (s: string): Either.Either<Timeframe, InvalidInput> => {
  const t = byId.get(s)
  return t
    ? Either.right(t)
    : Either.left(
      new InvalidInput({
        field: "timeframe",
        value: s,
        message: `unknown timeframe ${JSON.stringify(s)}; valid: ${TIMEFRAMES.map((x) => x.id).join(", ")}`
      })
    )
}

export const timeframeOf = (id: TimeframeId): Timeframe => byId.get(id)!
