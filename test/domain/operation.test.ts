import { describe, expect, it } from "vitest"
import fc from "fast-check"
import { durationSeconds, expiredIds, isoUtc, operationId, progressOf } from "../../src/domain/operation.ts"

describe("operation rules", () => {
  it("ids follow KTRDR's op_<type>_<UTC stamp>_<8 hex> form", () => {
    const t = Date.UTC(2025, 6, 6, 21, 34, 1, 123)
    expect(operationId("data_load", t, "1a2b3c4d")).toBe("op_data_load_20250706_213401_1a2b3c4d")
    expect(operationId("data_load", t, "1a2b3c4d", true)).toBe("op_retry_data_load_20250706_213401_1a2b3c4d")
    expect(isoUtc(t)).toBe("2025-07-06T21:34:01.123000Z")
  })

  it("progress maps phases to steps and segments to items", () => {
    const p = progressOf({
      phase: "fetching_segments",
      percentage: 53.333,
      step: "Fetching segment 5/10 from IB",
      segmentsTotal: 10,
      segmentsCompleted: 5,
      barsFetched: 1234,
      currentSegment: "Segment 5/10"
    })
    expect(p).toMatchObject({
      percentage: 53.33,
      steps_completed: 5,
      steps_total: 8,
      items_processed: 5,
      items_total: 10,
      current_item: "Segment 5/10",
      phase: "fetching_segments",
      bars_fetched: 1234
    })
    expect(
      progressOf({
        phase: "done",
        percentage: 100,
        step: "done",
        segmentsTotal: 0,
        segmentsCompleted: 0,
        barsFetched: 0
      }).steps_completed
    ).toBe(8)
  })

  it("duration runs from start to completion, or to now while running", () => {
    expect(durationSeconds(null, null, 5000)).toBeNull()
    expect(durationSeconds(1000, null, 3500)).toBe(2.5)
    expect(durationSeconds(1000, 2000, 9000)).toBe(1)
  })

  it("retention: running operations are never dropped; terminal ones go by TTL, then oldest beyond the cap", () => {
    const op = fc.record({ id: fc.uuid(), terminalAt: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: null }) })
    fc.assert(
      fc.property(
        fc.uniqueArray(op, { selector: (o) => o.id, maxLength: 40 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 10 }),
        (ops, ttlMs, maxTerminal) => {
          const now = 10_000
          const dropped = new Set(expiredIds(ops, now, { ttlMs, maxTerminal }))
          const kept = ops.filter((o) => !dropped.has(o.id))
          for (const o of ops) {
            if (o.terminalAt === null) expect(dropped.has(o.id)).toBe(false)
          }
          for (const o of kept) if (o.terminalAt !== null) expect(now - o.terminalAt).toBeLessThanOrEqual(ttlMs)
          expect(kept.filter((o) => o.terminalAt !== null).length).toBeLessThanOrEqual(maxTerminal)
          // Whatever is dropped for the cap is older than everything terminal that is kept.
          const keptTimes = kept.filter((o) => o.terminalAt !== null).map((o) => o.terminalAt!)
          for (const id of dropped) {
            const d = ops.find((o) => o.id === id)!
            if (now - d.terminalAt! <= ttlMs) expect(d.terminalAt!).toBeLessThanOrEqual(Math.min(...keptTimes))
          }
        }
      )
    )
  })
})
