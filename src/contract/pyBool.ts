/**
 * Booleans as KTRDR's server (FastAPI / pydantic 2 lax mode) reads them, in query strings and JSON bodies
 * alike: `true t yes y on 1` and `false f no n off 0`, any case. KTRDR's clients depend on it — the 2025 CLI
 * sends Python's `str(bool)` (`True`/`False`), the current one `true`, MCP `true`. Anything else (`""`,
 * `" true"`, `2`, `tru`) is refused with a message naming the accepted spellings, never read as false.
 */
import { ParseResult, Schema } from "effect"

const TRUE = new Set(["true", "t", "yes", "y", "on", "1"])
const FALSE = new Set(["false", "f", "no", "n", "off", "0"])

const MESSAGE = "Input should be a valid boolean (true/t/yes/y/on/1 or false/f/no/n/off/0, any case)"

/** The pydantic reading of a string; undefined when it is none of the twelve spellings. */
export const pyBool = (s: string): boolean | undefined => {
  const l = s.toLowerCase()
  return TRUE.has(l) ? true : FALSE.has(l) ? false : undefined
}

/** A query-string boolean; encodes as `true`/`false`. */
export const BoolParam = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  strict: true,
  decode: (s, _, ast) => {
    const b = pyBool(s)
    return b === undefined ? ParseResult.fail(new ParseResult.Type(ast, s, MESSAGE)) : ParseResult.succeed(b)
  },
  encode: (b) => ParseResult.succeed(b ? "true" : "false")
}).annotations({ description: "Boolean: true/t/yes/y/on/1 or false/f/no/n/off/0, any case" })

/** A JSON-body boolean: JSON true/false, the numbers 1/0, or one of the twelve strings. */
export const BoolBody = Schema.transformOrFail(
  Schema.Union(Schema.Boolean, Schema.Number, Schema.String),
  Schema.Boolean,
  {
    strict: true,
    decode: (v, _, ast) => {
      const b = typeof v === "boolean"
        ? v
        : typeof v === "number"
        ? (v === 1 ? true : v === 0 ? false : undefined)
        : pyBool(v)
      return b === undefined ? ParseResult.fail(new ParseResult.Type(ast, v, MESSAGE)) : ParseResult.succeed(b)
    },
    encode: (b) => ParseResult.succeed(b)
  }
).annotations({ description: "Boolean: JSON true/false, 1/0, or true/t/yes/y/on/1 / false/f/no/n/off/0 in any case" })
