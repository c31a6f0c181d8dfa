/**
 * The timeframe ids, in the table's order, as plain strings: the CLI's `--timeframe` choices and the `data show`
 * lane read them here without evaluating Timeframe.ts's typed errors (Effect). Timeframe.ts's table has one row per
 * id, in this order (test/domain/timeframeIds.test.ts).
 */
export const TIMEFRAME_IDS = [
  "1s",
  "5s",
  "15s",
  "30s",
  "1m",
  "5m",
  "15m",
  "30m",
  "1h",
  "2h",
  "4h",
  "1d",
  "1w",
  "1M"
] as const

export type TimeframeId = (typeof TIMEFRAME_IDS)[number]
