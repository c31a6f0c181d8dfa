/**
 * The `data show` lane checks answers with plain shapes derived from the contract's schemas (jsonShapeOf.ts,
 * jsonShape.ts) instead of effect/Schema: on generated bodies — valid ones from the schemas' own arbitraries, and
 * the same with keys dropped, added, reordered or values replaced — the shape accepts exactly what the schema
 * decodes, giving the same value with its keys in the same order.
 */
import fc from "fast-check"
import { Arbitrary, Either, Schema } from "effect"
import { describe, expect, it } from "vitest"
import { FailureEnvelope } from "../../src/contract/envelopeShape.ts"
import { jsonShapeOf } from "../../src/contract/jsonShapeOf.ts"
import { BarsAnswer } from "../../src/contract/ohlcvAnswer.ts"
import { checkShape, NO } from "../../src/domain/jsonShape.ts"
import { TIMEFRAMES } from "../../src/domain/Timeframe.ts"
import { TIMEFRAME_IDS } from "../../src/domain/timeframeIds.ts"

type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

/** Every path to a node of a JSON value (the root is []). */
const paths = (v: Json, at: ReadonlyArray<string | number> = []): Array<ReadonlyArray<string | number>> => {
  const out: Array<ReadonlyArray<string | number>> = [at]
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])))
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]))
  }
  return out
}

type Mutation =
  | { readonly kind: "replace"; readonly value: Json }
  | { readonly kind: "drop" }
  | { readonly kind: "add"; readonly key: string; readonly value: Json }
  | { readonly kind: "reverse" }

/** `v` with the node at `path` changed by `m` (a copy; keys keep their order unless reversed). */
const mutate = (v: Json, path: ReadonlyArray<string | number>, m: Mutation): Json => {
  if (path.length === 0) {
    switch (m.kind) {
      case "replace":
        return m.value
      case "drop":
        return Array.isArray(v) ? v.slice(1) : v
      case "add":
        return v !== null && typeof v === "object" && !Array.isArray(v) ? { ...v, [m.key]: m.value } : v
      case "reverse":
        return Array.isArray(v)
          ? [...v].reverse()
          : v !== null && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).reverse())
          : v
    }
  }
  const [head, ...rest] = path
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? mutate(x, rest, m) : x))
  const o = v as { readonly [k: string]: Json }
  if (rest.length === 0 && m.kind === "drop") {
    return Object.fromEntries(Object.entries(o).filter(([k]) => k !== head))
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, k === head ? mutate(x, rest, m) : x]))
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> }),
  fc.record({ kind: fc.constant("drop" as const) }),
  fc.record({
    kind: fc.constant("add" as const),
    key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("limited", "original_points", "detail", "__proto__")),
    value: fc.jsonValue({ maxDepth: 1 }) as fc.Arbitrary<Json>
  }),
  fc.record({ kind: fc.constant("reverse" as const) })
)

/** Valid bodies (through JSON, as the lane reads them), then up to three mutations each. */
const bodies = <A, I>(schema: Schema.Schema<A, I>) =>
  fc.tuple(
    Arbitrary.make(Schema.encodedSchema(schema)).map((x) => JSON.parse(JSON.stringify(x)) as Json),
    fc.array(fc.tuple(fc.nat(), mutation), { maxLength: 3 })
  ).map(([v, ms]) =>
    ms.reduce((acc, [n, m]) => {
      const ps = paths(acc)
      return mutate(acc, ps[n % ps.length]!, m)
    }, v)
  )

const sameAsSchema = <A, I>(schema: Schema.Schema<A, I>) => {
  const shape = jsonShapeOf(schema.ast)
  const decode = Schema.decodeUnknownEither(schema)
  let accepted = 0
  let refused = 0
  fc.assert(
    fc.property(fc.oneof(bodies(schema), fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>), (body) => {
      const bySchema = decode(body)
      const byShape = checkShape(shape, body)
      if (Either.isLeft(bySchema)) {
        refused++
        expect(byShape).toBe(NO)
      } else {
        accepted++
        expect(byShape).not.toBe(NO)
        // The same keys in the same order: `data show -f json` prints the decoded metadata.
        expect(JSON.stringify(byShape)).toBe(JSON.stringify(bySchema.right))
      }
    }),
    { numRuns: 3000 }
  )
  // Both sides of the comparison were exercised.
  expect(accepted).toBeGreaterThan(300)
  expect(refused).toBeGreaterThan(300)
}

describe("jsonShape", () => {
  it("accepts exactly the bars answers BarsAnswer decodes, with the same values", () => sameAsSchema(BarsAnswer))

  it("accepts exactly the failure envelopes FailureEnvelope decodes", () => sameAsSchema(FailureEnvelope))

  it("has no plain shape for what it cannot check without Effect", () => {
    for (
      const s of [
        Schema.String.pipe(Schema.minLength(1)),
        Schema.NumberFromString,
        Schema.Struct({}),
        Schema.Union(Schema.Struct({ a: Schema.Literal(1) }), Schema.Struct({ a: Schema.Literal(2) }))
      ]
    ) {
      expect(() => jsonShapeOf(s.ast)).toThrow(/no plain shape/)
    }
  })

  it("lists the timeframe table's ids in its order (the CLI's --timeframe choices)", () => {
    expect(TIMEFRAMES.map((t) => t.id)).toEqual([...TIMEFRAME_IDS])
  })
})
