import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByteWriter } from "../../src/domain/byteWriter.ts"

class Probe extends ByteWriter {
  text(f: (w: this) => void): string {
    this.reset()
    this.ensure(64)
    f(this)
    return new TextDecoder().decode(this.view())
  }
}

/** Values on each side of every fast path's edges: cents, 10^-8 steps, int32, exponent notation. */
const EDGES = [
  0,
  -0,
  1e-6,
  1e-7,
  9.99999e-7,
  0.00000123,
  0.01,
  0.07,
  1.005,
  0.1 + 0.2,
  99.99,
  100,
  123.456789012,
  2 ** 21,
  2 ** 21 - 1e-8,
  2097151.99999999,
  2097151.12345678,
  2 ** 31 / 100,
  2 ** 31 / 100 - 0.01,
  21474836.47,
  21474836.48,
  21474836.5,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 31 + 0.5,
  1e15,
  1e21,
  5e-324,
  Number.MAX_VALUE
]

describe("ByteWriter.number", () => {
  const w = new Probe()
  const text = (x: number) => w.text((p) => p.number(x))
  it("prints the edges of its fast paths as String() does, both signs", () => {
    for (const x of EDGES) {
      expect(text(x)).toBe(String(x))
      expect(text(-x)).toBe(String(-x))
    }
  })
  it("prints random values as String() does: cents, 10^-8 steps, int32s, any double", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.double({ min: -3e7, max: 3e7, noNaN: true }),
          fc.double({ min: 1e-7, max: 1e-5, noNaN: true }),
          fc.integer().map((k) => k / 100),
          fc.integer({ min: 0, max: 2 ** 52 }).map((k) => k / 100),
          fc.integer({ min: 0, max: 2 ** 50 }).map((k) => k / 1e8),
          fc.integer().map((k) => k / 1e5),
          fc.integer({ min: -(2 ** 31) - 5, max: 2 ** 31 + 5 })
        ),
        (x) => text(x) === String(x)
      ),
      { numRuns: 200_000 }
    )
  })
  it("writes naive UTC seconds as toISOString does, across days and years", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_000 }), { maxLength: 20 }),
        (ts) => {
          for (const t of ts.sort((a, b) => a - b)) {
            expect(w.text((p) => p.naiveSecond(Float64Array.of(t), 0))).toBe(new Date(t).toISOString().slice(0, 19))
          }
        }
      )
    )
  })
})
