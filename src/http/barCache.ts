/**
 * The hot-series cache of GET /data: encoded response bytes, least recently used first out, bounded by
 * a byte budget (KTRDR_API_BAR_CACHE_BYTES). Each entry remembers the fingerprint of the file version
 * it was built from; a lookup with another fingerprint is a miss and drops the entry, so any write to
 * the series (a load's merge, a checkpoint, another process) is seen on the next request.
 * Plain synchronous Map operations: there is no await between a check and its update.
 */
interface Entry {
  readonly fingerprint: string
  readonly bytes: Uint8Array
}

export interface CacheStats {
  readonly entries: number
  readonly bytes: number
  readonly hits: number
  readonly misses: number
}

export class ByteLru {
  /** Map iteration order is insertion order: the first key is the least recently used. */
  private readonly map = new Map<string, Entry>()
  private size = 0
  private hits = 0
  private misses = 0

  constructor(readonly budget: number) {}

  get(key: string, fingerprint: string): Uint8Array | undefined {
    const e = this.map.get(key)
    if (e === undefined || e.fingerprint !== fingerprint) {
      if (e !== undefined) this.remove(key, e)
      this.misses++
      return undefined
    }
    this.map.delete(key)
    this.map.set(key, e)
    this.hits++
    return e.bytes
  }

  /** An entry larger than the whole budget is not kept (it would evict everything and then itself). */
  set(key: string, fingerprint: string, bytes: Uint8Array): void {
    const old = this.map.get(key)
    if (old !== undefined) this.remove(key, old)
    if (bytes.length > this.budget) return
    this.map.set(key, { fingerprint, bytes })
    this.size += bytes.length
    for (const [k, e] of this.map) {
      if (this.size <= this.budget) break
      this.remove(k, e)
    }
  }

  stats(): CacheStats {
    return { entries: this.map.size, bytes: this.size, hits: this.hits, misses: this.misses }
  }

  private remove(key: string, e: Entry): void {
    this.map.delete(key)
    this.size -= e.bytes.length
  }
}
