import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  BURST_WINDOW_MS,
  defaultPacingParams,
  earliestSlot,
  IDENTICAL_WINDOW_MS,
  LONG_WINDOW_MS,
  pruneHistory,
  type PaceEntry,
  type PaceRequest,
  type PacingParams
} from "../../src/domain/PacingRules.ts"
import { Pacing } from "../../src/sim/pacing.ts"

const exact = (o: Partial<PacingParams> = {}) => defaultPacingParams({ marginMs: 0, ...o })
const small = (identity: string, contract = "AAPL", weight: 1 | 2 = 1): PaceRequest => ({
  identity,
  contract,
  weight,
  small: true
})
const large = (identity: string, contract = "AAPL"): PaceRequest => ({ identity, contract, weight: 1, small: false })
const at = (t: number, r: PaceRequest): PaceEntry => ({ ...r, t })
/** n distinct small requests for one contract at the given times. */
const burst = (times: ReadonlyArray<number>, contract = "AAPL", weight: 1 | 2 = 1) =>
  times.map((t, i) => at(t, small(`${contract}-${i}`, contract, weight)))

describe("earliestSlot at IB's thresholds", () => {
  it("lets the 5th request in 2 s go now and holds the 6th until the first leaves the window", () => {
    expect(earliestSlot(burst([0, 100, 200, 300]), small("x"), 400, exact())).toEqual({ at: 400, reason: undefined })
    expect(earliestSlot(burst([0, 100, 200, 300, 400]), small("x"), 500, exact())).toEqual({
      at: BURST_WINDOW_MS,
      reason: "burst"
    })
    // The margin is added when the rule binds …
    expect(earliestSlot(burst([0, 100, 200, 300, 400]), small("x"), 500, defaultPacingParams({ marginMs: 100 })).at)
      .toBe(2100)
    // … and other contracts are not affected.
    expect(earliestSlot(burst([0, 100, 200, 300, 400]), small("x", "MSFT"), 500, exact())).toEqual({
      at: 500,
      reason: undefined
    })
  })

  it("holds the 61st request in 10 minutes until the first ages out", () => {
    // One request a second over 10 contracts: never a burst, but 60 within the long window.
    const history = Array.from({ length: 60 }, (_, i) => at(i * 1000, small(`r${i}`, `C${i % 10}`)))
    expect(earliestSlot(history.slice(1), small("x", "Z"), 60_000, exact())).toEqual({ at: 60_000, reason: undefined })
    expect(earliestSlot(history, small("x", "Z"), 60_000, exact())).toEqual({ at: LONG_WINDOW_MS, reason: "window" })
  })

  it("waits 15 s between identical requests", () => {
    const history = [at(0, small("same"))]
    expect(earliestSlot(history, small("same"), 5000, exact())).toEqual({
      at: IDENTICAL_WINDOW_MS,
      reason: "identical"
    })
    expect(earliestSlot(history, small("other"), 5000, exact())).toEqual({ at: 5000, reason: undefined })
    expect(earliestSlot(history, small("same"), 15_000, exact())).toEqual({ at: 15_000, reason: undefined })
  })

  it("counts a request from the latest time the gateway may have seen it (its answer), not its sending", () => {
    // Sent at 0, answered at 3000: the gateway may have read it at 3000.
    const late = (e: PaceEntry): PaceEntry => ({ ...e, until: 3000 })
    expect(earliestSlot([late(at(0, small("same")))], small("same"), 5000, exact())).toEqual({
      at: 3000 + IDENTICAL_WINDOW_MS,
      reason: "identical"
    })
    // Five in a burst, the first of them perhaps seen at 3000: the 6th still goes when the second leaves the
    // window (four in it then, wherever the first landed); but four more later, the 10th waits for the 6th
    // to leave (4100) where, had the first been answered at once, it would go at 2400.
    const five = burst([0, 100, 200, 300, 400])
    const sixth = earliestSlot([late(five[0]!), ...five.slice(1)], small("x"), 500, exact())
    expect(sixth).toEqual({ at: 100 + BURST_WINDOW_MS, reason: "burst" })
    const withSixth = [late(five[0]!), ...five.slice(1), at(sixth.at, small("x"))]
    expect(earliestSlot(withSixth, small("y"), sixth.at, exact())).toEqual({
      at: 200 + BURST_WINDOW_MS,
      reason: "burst"
    })
    const full = [...withSixth, at(2200, small("y")), at(2300, small("z")), at(2400, small("w"))]
    expect(earliestSlot(full, small("v"), 2400, exact())).toEqual({ at: sixth.at + BURST_WINDOW_MS, reason: "burst" })
    const answeredAtOnce = full.map((e) => ({ ...e, until: e.t }))
    expect(earliestSlot(answeredAtOnce, small("v"), 2400, exact())).toEqual({ at: 2400, reason: undefined })
    const sixty = Array.from({ length: 60 }, (_, i) => at(i * 1000, small(`r${i}`, `C${i % 10}`)))
    expect(earliestSlot([late(sixty[0]!), ...sixty.slice(1)], small("x", "Z"), 60_000, exact())).toEqual({
      at: 1000 + LONG_WINDOW_MS,
      reason: "window"
    })
    // It also stays longer in the history.
    expect(pruneHistory([late(at(0, small("a")))], 2000 + LONG_WINDOW_MS, exact())).toHaveLength(1)
  })

  it("counts BID_ASK twice in the burst and long windows", () => {
    const two = burst([0, 100], "EUR", 2)
    expect(earliestSlot(two, small("x", "EUR", 1), 200, exact()).at).toBe(200) // 2 + 2 + 1 = 5
    expect(earliestSlot(two, small("x", "EUR", 2), 200, exact())).toEqual({ at: 2000, reason: "burst" }) // 6
    const thirty = Array.from({ length: 30 }, (_, i) => at(i * 1000, small(`r${i}`, `C${i % 10}`, 2)))
    expect(earliestSlot(thirty, small("x", "Z"), 30_000, exact())).toEqual({ at: LONG_WINDOW_MS, reason: "window" })
  })

  it("divides every window by timeScale", () => {
    const p = exact({ timeScale: 10 })
    expect(earliestSlot(burst([0, 10, 20, 30, 40]), small("x"), 50, p)).toEqual({ at: 200, reason: "burst" })
    expect(earliestSlot([at(0, small("same"))], small("same"), 1, p)).toEqual({ at: 1500, reason: "identical" })
  })

  it("only spaces large bars, unless every size is paced", () => {
    const p = exact({ largeBarSpacingMs: 50 })
    const history = [at(0, large("same")), ...burst([0, 1, 2, 3, 4])]
    expect(earliestSlot(history, large("same"), 10, p)).toEqual({ at: 50, reason: "spacing" })
    expect(earliestSlot(history, large("other", "MSFT"), 60, p)).toEqual({ at: 60, reason: undefined })
    // Large entries do not count against small requests in strict mode.
    expect(earliestSlot([at(0, large("a")), ...burst([0, 1, 2, 3])], small("x"), 5, p).at).toBe(5)
    const all = exact({ largeBarSpacingMs: 50, paceAllSizes: true })
    expect(earliestSlot(history, large("same"), 10, all)).toEqual({ at: 15_000, reason: "identical" })
  })

  it("keeps every two requests sendSpacingMs apart, whatever their kind", () => {
    const p = exact({ sendSpacingMs: 35 })
    const history = [at(0, small("a")), at(35, large("b", "MSFT")), at(140, small("c", "EUR"))]
    expect(earliestSlot(history, small("x", "Z"), 10, p)).toEqual({ at: 70, reason: "spacing" })
    expect(earliestSlot(history, large("y", "Y"), 80, p)).toEqual({ at: 80, reason: undefined }) // fits between
    expect(earliestSlot(history, large("y", "Y"), 110, p)).toEqual({ at: 175, reason: "spacing" })
  })

  it("plans around future reservations in both directions", () => {
    const future = [at(20_000, small("same"))]
    expect(earliestSlot(future, small("same"), 0, exact()).at).toBe(0) // 20 s before it is fine
    expect(earliestSlot(future, small("same"), 10_000, exact())).toEqual({ at: 35_000, reason: "identical" })
    // Five reserved at 3000: any request in (1000, 5000) makes six within 2 s of them; 1000 still fits.
    const ahead = burst([3000, 3000, 3000, 3000, 3000])
    expect(earliestSlot(ahead, small("x"), 1000, exact()).at).toBe(1000)
    expect(earliestSlot(ahead, small("x"), 1001, exact())).toEqual({ at: 5000, reason: "burst" })
    expect(earliestSlot(ahead, small("x"), 1500, exact())).toEqual({ at: 5000, reason: "burst" })
  })

  it("prunes only entries that can no longer bind", () => {
    const h = [at(0, small("a")), at(1000, small("b")), at(0, large("L"))]
    const p = exact({ largeBarSpacingMs: 50, sendSpacingMs: 35 })
    expect(pruneHistory(h, LONG_WINDOW_MS, p).map((e) => e.identity)).toEqual(["b"])
    expect(pruneHistory(h, LONG_WINDOW_MS - 1, p).map((e) => e.identity)).toEqual(["a", "b"])
    // A large-bar entry only matters for the spacings, unless every size is paced.
    expect(pruneHistory(h, 49, p).map((e) => e.identity)).toEqual(["a", "b", "L"])
    expect(pruneHistory(h, 50, { ...p, paceAllSizes: true }).map((e) => e.identity)).toEqual(["a", "b", "L"])
  })
})

// ---- properties against the simulator's own rule implementation -------------------------------------

// Arrays use size "max": fast-check's default size keeps them near 10 long, too short to fill a window.
interface Arrival {
  readonly gap: number
  readonly req: PaceRequest
}

const arrival = fc.record({
  // Mostly bursts (gap 0 or a few ms), sometimes long pauses that let windows drain.
  gap: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 50 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 20_000 }) }
  ),
  req: fc.record({
    // Few enough identities to collide, enough for six distinct ones in a burst.
    identity: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 12 })).map(String),
    contract: fc.constantFrom("AAPL", "MSFT", "EUR"),
    weight: fc.constantFrom<1 | 2>(1, 1, 2),
    small: fc.boolean()
  })
}).map(({ gap, req }) => ({ gap, req: { ...req, identity: `${req.contract}/${req.identity}/${req.small}` } }))

/** Scales that divide every window exactly, so planned times stay integers and margin 0 is meaningful. */
const exactScale = fc.constantFrom(1, 2, 5, 8, 10, 40, 100, 1000)
const anyScale = fc.constantFrom(1, 3, 7, 1.5, 33.3, 250)

/** The rule breaks the simulator reports replaying `entries` in time order, plus breaks of our two spacings. */
const violations = (entries: ReadonlyArray<PaceEntry>, p: PacingParams): Array<string> => {
  const sim = new Pacing(p.paceAllSizes ? "all" : "strict", p.timeScale)
  const sorted = [...entries].sort((a, b) => a.t - b.t)
  const found: Array<string> = []
  let lastLarge: number | undefined
  let last: number | undefined
  for (const e of sorted) {
    const broken = sim.admit(e, e.t)
    if (broken) found.push(`${broken} at ${e.t}`)
    // Our spacings carry no margin, so allow float rounding (fractional scales make fractional times).
    if (last !== undefined && e.t - last < p.sendSpacingMs - 1e-6) found.push(`send spacing at ${e.t}`)
    last = e.t
    if (!e.small) {
      if (lastLarge !== undefined && e.t - lastLarge < p.largeBarSpacingMs - 1e-6) found.push(`spacing at ${e.t}`)
      lastLarge = e.t
    }
  }
  return found
}

/** Feeds arrivals through the planner as the gate does; returns every reservation and the slots. */
const plan = (
  arrivals: ReadonlyArray<Arrival>,
  p: PacingParams,
  check?: (h: ReadonlyArray<PaceEntry>, r: PaceRequest, now: number, at: number) => void
) => {
  let now = 0
  let history: Array<PaceEntry> = []
  const all: Array<PaceEntry> = []
  for (const { gap, req } of arrivals) {
    now += gap
    history = pruneHistory(history, now, p)
    const slot = earliestSlot(history, req, now, p)
    expect(slot.at).toBeGreaterThanOrEqual(now)
    check?.(all, req, now, slot.at)
    const entry = { ...req, t: slot.at }
    history.push(entry)
    all.push(entry)
  }
  return all
}

/** Brute force: the first candidate instant where the simulator (and spacing) accept the request. */
const firstAllowed = (all: ReadonlyArray<PaceEntry>, req: PaceRequest, now: number, p: PacingParams): number => {
  const shifts = [
    IDENTICAL_WINDOW_MS / p.timeScale,
    BURST_WINDOW_MS / p.timeScale,
    LONG_WINDOW_MS / p.timeScale,
    p.largeBarSpacingMs,
    p.sendSpacingMs
  ]
  const candidates = [now, ...all.flatMap((e) => shifts.map((s) => e.t + s))].filter((c) => c >= now).sort((a, b) =>
    a - b
  )
  const found = candidates.find((c) => violations([...all, { ...req, t: c }], p).length === 0)
  if (found === undefined) throw new Error("no candidate accepted")
  return found
}

const params = (
  scale: number,
  margin: number,
  paceAllSizes: boolean,
  [spacing, sendSpacing]: readonly [number, number]
) =>
  defaultPacingParams({
    timeScale: scale,
    marginMs: margin,
    paceAllSizes,
    largeBarSpacingMs: spacing,
    sendSpacingMs: sendSpacing
  })

/** Large-bar spacing and send spacing, each off or on. */
const spacings = fc.tuple(fc.constantFrom(0, 50, 3000), fc.constantFrom(0, 0, 35))

describe("earliestSlot against the simulator's Pacing", () => {
  it("replaying planned send times breaks no rule (property)", () => {
    const scaled = fc.oneof(
      fc.tuple(exactScale, fc.constantFrom(0, 1, 100)),
      fc.tuple(anyScale, fc.constantFrom(0.5, 5, 100))
    )
    fc.assert(
      fc.property(
        fc.array(arrival, { minLength: 1, maxLength: 150, size: "max" }),
        scaled,
        fc.boolean(),
        spacings,
        (arrivals, [scale, margin], all, spacing) => {
          const p = params(scale, margin, all, spacing)
          expect(violations(plan(arrivals, p), p)).toEqual([])
        }
      ),
      { numRuns: 300 }
    )
  })

  it("is exactly optimal with margin 0, even between future reservations (property)", () => {
    fc.assert(
      fc.property(
        fc.array(arrival, { minLength: 1, maxLength: 40, size: "max" }),
        exactScale,
        fc.boolean(),
        spacings,
        (arrivals, scale, all, spacing) => {
          const p = params(scale, 0, all, spacing)
          plan(arrivals, p, (history, req, now, at) => expect(at).toBe(firstAllowed(history, req, now, p)))
        }
      ),
      { numRuns: 150 }
    )
  })

  it("never delays by more than the margin a request the simulator would admit now (property)", () => {
    fc.assert(
      fc.property(
        fc.array(arrival, { minLength: 1, maxLength: 120, size: "max" }),
        arrival,
        anyScale,
        fc.constantFrom(1, 50, 100),
        fc.boolean(),
        (arrivals, next, scale, margin, all) => {
          // A past that the gateway itself accepted: feed arrivals to the simulator, keep what it admits.
          const p = params(scale, margin, all, [0, 0])
          const sim = new Pacing(all ? "all" : "strict", scale)
          let now = 0
          const past: Array<PaceEntry> = []
          for (const { gap, req } of arrivals) {
            now += gap
            if (sim.admit(req, now) === undefined) past.push({ ...req, t: now })
          }
          now += next.gap
          const slot = earliestSlot(pruneHistory(past, now, p), next.req, now, p)
          const exactSlot = earliestSlot(past, next.req, now, { ...p, marginMs: 0 })
          expect(slot.at).toBeLessThanOrEqual(exactSlot.at + margin + 1e-6)
          if (sim.admit(next.req, now) === undefined) expect(slot.at - now).toBeLessThanOrEqual(margin + 1e-6)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("plans a burst of 500 requests for a few contracts without a violation", () => {
    const p = params(1, 500, false, [50, 35])
    const arrivals = Array.from({ length: 500 }, (_, i): Arrival => ({
      gap: 0,
      req: { identity: `q${i}`, contract: `C${i % 3}`, weight: i % 7 === 0 ? 2 : 1, small: i % 5 !== 0 }
    }))
    const planned = plan(arrivals, p)
    expect(violations(planned, p)).toEqual([])
    // ~400 small requests of weight ~1.1 at 60 per 10 min: the last leaves after about 7 windows.
    expect(Math.max(...planned.map((e) => e.t))).toBeLessThan(8 * (LONG_WINDOW_MS + 500))
  })
})
