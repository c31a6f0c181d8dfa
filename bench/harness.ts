/**
 * Benchmark plumbing: every benchmark measures its figure and a baseline in the same run and reports
 * the ratio, because these machines are shared and absolute timings drift from run to run.
 */
export interface BenchResult {
  readonly name: string
  readonly figure: { readonly label: string; readonly value: number; readonly unit: string }
  readonly baseline: { readonly label: string; readonly value: number; readonly unit: string }
  readonly ratio: number
  /** e.g. "≤ 5": printed next to the ratio; `pass` says whether the ratio met it. */
  readonly goal: string
  readonly pass: boolean
  readonly notes?: ReadonlyArray<string>
}

export interface Bench {
  readonly name: string
  readonly run: () => Promise<BenchResult>
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Alternates the two measurements so drift on a shared machine hits both alike. */
export const interleave = async (rounds: number, a: () => Promise<number>, b: () => Promise<number>) => {
  const as: Array<number> = []
  const bs: Array<number> = []
  for (let i = 0; i < rounds; i++) {
    as.push(await a())
    bs.push(await b())
  }
  return { a: as, b: bs }
}

export const fmt = (
  x: number
): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3))
