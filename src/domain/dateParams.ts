/**
 * Dates as KTRDR's API and CLI accept them: `YYYY-MM-DD` (00:00 UTC) or ISO 8601 with a time; a time without zone is
 * UTC.
 */
import { Either } from "effect"
import { InvalidInput } from "./dataErrors.ts"

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/

export const parseDateParam = (field: string, raw: string): Either.Either<number, InvalidInput> => {
  const s = raw.trim()
  const bad = () =>
    Either.left(
      new InvalidInput({
        field,
        value: raw.slice(0, 64),
        message: `Invalid ${field} '${raw.slice(0, 64)}'. Use YYYY-MM-DD or an ISO 8601 date-time`
      })
    )
  const d = DAY.exec(s)
  const m = d ?? DATETIME.exec(s)
  if (!m) return bad()
  const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const [h, mi, se] = d ? [0, 0, 0] : [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)]
  if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || se > 59) return bad()
  const frac = d ? 0 : Math.round(Number(`0${m[7] ?? ".0"}`) * 1000)
  const zone = d ? "Z" : (m[8] ?? "Z")
  const offsetMin = zone === "Z"
    ? 0
    : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)))
  const ms = Date.UTC(y, mo - 1, da, h, mi, se, frac) - offsetMin * 60_000
  // Date.UTC rolls 2025-02-30 over to March: refuse dates that do not exist.
  if (new Date(Date.UTC(y, mo - 1, da)).getUTCDate() !== da) return bad()
  return Either.right(ms)
}

/** Optional start and end, with start < end when both are given. */
export const parseDateRange = (
  start: string | null | undefined,
  end: string | null | undefined,
  names = ["start_date", "end_date"] as const
) =>
  Either.gen(function*() {
    const s = start == null || start === "" ? undefined : yield* parseDateParam(names[0], start)
    const e = end == null || end === "" ? undefined : yield* parseDateParam(names[1], end)
    if (s !== undefined && e !== undefined && s >= e) {
      return yield* Either.left(
        new InvalidInput({ field: names[0], value: start ?? "", message: `${names[0]} must be before ${names[1]}` })
      )
    }
    return { start: s, end: e }
  })
