/**
 * What every bar store accepts, whatever it keeps the bars in: the series key's shape (validated before any path or
 * query exists), bars that can be written faithfully, extra columns that do not clash. CSV and PostgreSQL stores
 * both apply these, so the same input is refused the same way by both.
 */
import { Either } from "effect"
import type { BarSeries } from "./barSeries.ts"
import { InvalidInput } from "./dataErrors.ts"
import { MAX_TIME, MIN_TIME } from "./utcDays.ts"

const SERIES = /^[A-Z0-9][A-Z0-9._-]{0,31}$/

/**
 * Canonical (upper-case) series key, or InvalidInput. The pattern alone already excludes `/`, `\`, control
 * characters and a leading dot; `..` is refused as well so no key ever looks like a path step.
 */
export const seriesKey = (series: string): Either.Either<string, InvalidInput> => {
  const key = series.toUpperCase()
  const bad = (message: string) => Either.left(new InvalidInput({ field: "series", value: series, message }))
  if (key.length === 0) return bad("series is empty")
  if (key.length > 32) return bad("series is longer than 32 characters")
  if (key.includes("..") || !SERIES.test(key)) {
    return bad(
      "series may hold only A–Z, 0–9, '.', '_', '-', must start with a letter or digit and must not contain '..'"
    )
  }
  return Either.right(key)
}

/**
 * Why row i cannot be written faithfully (undefined when it can): ±Infinity has no CSV form a reader accepts, and
 * times outside years 0000–9999 have no four-digit form. A NaN price is allowed: it is pandas' missing value.
 */
export const unwritableRow = (s: BarSeries, i: number): string | undefined => {
  const t = s.time[i]!
  if (!Number.isInteger(t) || t < MIN_TIME || t > MAX_TIME) {
    return `time ${t} is not an epoch-ms instant in years 0000–9999`
  }
  for (const k of ["open", "high", "low", "close", "volume"] as const) {
    const v = s[k][i]!
    if (v === Infinity || v === -Infinity) return `${k} is ${v}`
  }
  return undefined
}

export const validateBars = (s: BarSeries): Either.Either<void, InvalidInput> => {
  for (let i = 0; i < s.length; i++) {
    const why = unwritableRow(s, i)
    if (why) return Either.left(new InvalidInput({ field: "bars", value: `bars[${i}]`, message: why }))
  }
  return Either.right(undefined)
}

const RESERVED = new Set(["open", "high", "low", "close", "volume"])

/** A whole series to store: bars as validateBars, plus unique, non-OHLCV extra columns with one value per bar. */
export const validateSeries = (data: BarSeries): Either.Either<void, InvalidInput> => {
  const bad = (value: string, message: string) =>
    Either.left(new InvalidInput({ field: "extraColumns", value, message }))
  const names = new Set<string>()
  for (const name of data.extraColumns) {
    const key = name.trim().toLowerCase()
    if (RESERVED.has(key) || names.has(key)) {
      return bad(name, `extra column ${JSON.stringify(name)} clashes with another column`)
    }
    names.add(key)
  }
  if (data.extras.length !== data.extraColumns.length) {
    return bad(String(data.extras.length), "extras must hold one column per extra column name")
  }
  for (const col of data.extras) {
    if (col.length !== data.length) return bad(String(col.length), "every extra column needs one value per bar")
  }
  for (const k of ["time", "open", "high", "low", "close", "volume"] as const) {
    if (data[k].length < data.length) return bad(k, `column ${k} is shorter than the series`)
  }
  return validateBars(data)
}

/** A read's inclusive bounds, open ends as ±Infinity; InvalidInput when a bound is NaN or start is after end. */
export const readBounds = (
  range: { readonly start?: number; readonly end?: number }
): Either.Either<{ readonly start: number; readonly end: number }, InvalidInput> => {
  const start = range.start ?? -Infinity, end = range.end ?? Infinity
  return Number.isNaN(start) || Number.isNaN(end) || start > end
    ? Either.left(
      new InvalidInput({
        field: "range",
        value: `${range.start}..${range.end}`,
        message: "start must not be after end"
      })
    )
    : Either.right({ start, end })
}
