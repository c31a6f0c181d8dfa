/**
 * The number, time and CSV formats KTRDR's CLI printed, without Effect: render.ts re-exports them for the
 * commands, and the `data show` lane (src/app/cliShow.ts) prints with the same functions.
 */
import { stringify } from "csv-stringify/sync"

/** RFC 4180 CSV with CRLF records, the header first. */
export const csv = (
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>
): string => stringify([header, ...rows], { record_delimiter: "\r\n" })

/** `1234567.8` → `1,234,568`. Not Intl.NumberFormat: its first use loads ICU data, ~12 ms of a ~300 ms start. */
export const fmtInt = (n: number): string => {
  const s = Math.round(n).toString()
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",")
}
/** A missing value (a null price, KTRDR's NaN) prints as `NaN`, as KTRDR's pandas table did. */
export const fmtFixed = (n: number | null, digits: number): string => (n === null ? "NaN" : n.toFixed(digits))

/**
 * `2025-05-22T08:00:00Z`, `…+00:00` or the API's naive `2025-05-22T08:00:00` (UTC) → `2025-05-22 08:00:00` (UTC,
 * as KTRDR printed dates). A naive time is read as UTC, not as the machine's local time.
 */
export const fmtTime = (iso: string | null | undefined): string => {
  if (iso === null || iso === undefined || iso === "") return "N/A"
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) || !iso.includes("T") ? iso : `${iso}Z`)
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace("T", " ")
}
