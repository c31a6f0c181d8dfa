/** An OHLCV bar as the system keeps it: UTC instant of the bar's start, IB's -1 "absent" kept as null. */
import { DateTime } from "luxon"

export interface Bar {
  /** Epoch ms, UTC. Daily and larger bars are labelled 00:00Z of their trading date, as KTRDR's files are. */
  readonly time: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  /** null when IB sent -1 (quote bars, indices): "absent", which is not 0. */
  readonly volume: number | null
  readonly wap: number | null
  readonly count: number | null
}

/**
 * IB's bar time forms (tws-protocol.md §2.6): epoch seconds (formatDate 2), `yyyyMMdd` for daily and
 * larger bars, `yyyyMMdd HH:mm:ss <zone>` or `yyyyMMdd  HH:mm:ss` (formatDate 1; no zone = `zone`).
 * Returns undefined for anything else.
 */
export const parseIbBarTime = (s: string, zone: string): number | undefined => {
  if (/^\d{9,11}$/.test(s)) return Number(s) * 1000
  const day = /^(\d{4})(\d{2})(\d{2})$/.exec(s)
  if (day) {
    const ms = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]))
    return new Date(ms).getUTCDate() === Number(day[3]) ? ms : undefined
  }
  const m = /^(\d{4})(\d{2})(\d{2}) {1,2}(\d{2}):(\d{2}):(\d{2})(?: (\S+))?$/.exec(s)
  if (!m) return undefined
  const dt = DateTime.fromObject(
    {
      year: Number(m[1]),
      month: Number(m[2]),
      day: Number(m[3]),
      hour: Number(m[4]),
      minute: Number(m[5]),
      second: Number(m[6])
    },
    { zone: m[7] ?? zone }
  )
  return dt.isValid ? dt.toMillis() : undefined
}

/** IB's "absent" marker (-1, or the library's undefined) becomes null. */
export const presentOrNull = (
  x: number | undefined
): number | null => (x === undefined || x === -1 || Number.isNaN(x) ? null : x)
