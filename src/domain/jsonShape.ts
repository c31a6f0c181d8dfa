/**
 * A JSON value's expected shape as plain data, and its check: what a Schema made of structs, arrays, unions,
 * literals and the primitive keywords decodes, read from the schema's AST (src/contract/jsonShapeOf.ts) and checked
 * here without Effect. The `ktrdr data show` lane checks the server's answer with the shape of the bars endpoint's
 * own success schema: evaluating effect/Schema would cost ~7 ms of a ~25 ms budget. It decodes as the schema
 * decodes (test/domain/jsonShape.test.ts holds the two equal on generated inputs): a struct keeps its known keys in
 * the schema's order and drops the others, an optional key may be absent, a union takes its first matching member.
 */
export type Shape =
  | { readonly t: "string" }
  | { readonly t: "number" }
  | { readonly t: "boolean" }
  | { readonly t: "unknown" }
  | { readonly t: "undefined" }
  | { readonly t: "literal"; readonly v: string | number | boolean | null }
  | { readonly t: "union"; readonly of: ReadonlyArray<Shape> }
  | { readonly t: "array"; readonly of: Shape }
  | {
    readonly t: "struct"
    readonly fields: ReadonlyArray<{ readonly name: string; readonly optional: boolean; readonly shape: Shape }>
    /** The values of the other (string) keys, kept: a record's index signature. */
    readonly rest?: Shape
  }

/** The decoded value, or NO when the value does not have the shape. */
export const NO: unique symbol = Symbol("no")

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

export const checkShape = (shape: Shape, u: unknown): unknown => {
  switch (shape.t) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
      return typeof u === shape.t ? u : NO
    case "unknown":
      return u
    case "literal":
      return u === shape.v ? u : NO
    case "union": {
      for (const s of shape.of) {
        const r = checkShape(s, u)
        if (r !== NO) return r
      }
      return NO
    }
    case "array": {
      if (!Array.isArray(u)) return NO
      const out: Array<unknown> = []
      for (const x of u) {
        const r = checkShape(shape.of, x)
        if (r === NO) return NO
        out.push(r)
      }
      return out
    }
    case "struct": {
      if (!isRecord(u)) return NO
      const out: Record<string, unknown> = {}
      for (const f of shape.fields) {
        const has = Object.prototype.hasOwnProperty.call(u, f.name)
        if (!has && f.optional) continue
        const r = checkShape(f.shape, u[f.name])
        if (r === NO) return NO
        out[f.name] = r
      }
      if (shape.rest !== undefined) {
        for (const k of Object.keys(u)) {
          const r = checkShape(shape.rest, u[k])
          if (r === NO) return NO
          if (!shape.fields.some((f) => f.name === k)) out[k] = r
        }
      }
      return out
    }
  }
}
