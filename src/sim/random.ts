/**
 * Stateless, seedable randomness: every value is a pure function of (seed, index), so any bar can be
 * regenerated on its own and the same request gives the same bars in every process.
 */

/** FNV-1a over a string: a stable 32-bit seed for names such as "AAPL" or "AAPL|2024-03-28". */
export const seedOf = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A murmur3-style finaliser over two words. */
export const mix = (seed: number, i: number): number => {
  let h = (seed ^ Math.imul(i + 0x9e3779b9, 0x85ebca6b)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  h = Math.imul(h, 0x846ca68b)
  h ^= h >>> 16
  return h >>> 0
}

/** Uniform in (0, 1). */
export const uniform = (seed: number, i: number): number => (mix(seed, i) + 0.5) / 4294967296

/** Standard normal by Box–Muller over two uniforms. */
export const gauss = (seed: number, i: number): number =>
  Math.sqrt(-2 * Math.log(uniform(seed, 2 * i))) * Math.cos(2 * Math.PI * uniform(seed, 2 * i + 1))
