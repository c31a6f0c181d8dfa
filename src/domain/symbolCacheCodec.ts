/**
 * The symbol cache document in KTRDR's schema (ktrdr-ib-layer.md §4.5), as a pure codec: whatever keeps it — the
 * `symbol_discovery_cache.json` file or a PostgreSQL row — stores exactly this text, so a file exported from one
 * reads the same in the other and in KTRDR.
 */
type Json = Record<string, unknown>

const isObj = (x: unknown): x is Json => typeof x === "object" && x !== null && !Array.isArray(x)

export interface CacheState {
  /** Top-level fields other than cache / validated_symbols / last_updated, kept as found. */
  readonly extra: Json
  /** Raw entries by series key; anything, so unparseable entries survive a rewrite. */
  readonly entries: Readonly<Record<string, unknown>>
  readonly validated: ReadonlyArray<string>
}

export const emptyCache: CacheState = { extra: {}, entries: {}, validated: [] }

/** The file's state, or why it is corrupt. A missing `validated_symbols` means every key (KTRDR's rule). */
export const decodeCache = (text: string): { readonly state: CacheState } | { readonly corrupt: string } => {
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (e) {
    return { corrupt: `not JSON (${e instanceof Error ? e.message : String(e)})` }
  }
  if (!isObj(data)) return { corrupt: "the top level is not an object" }
  const { cache = {}, validated_symbols, last_updated: _, ...extra } = data
  if (!isObj(cache)) return { corrupt: "`cache` is not an object" }
  const validated = Array.isArray(validated_symbols)
    ? validated_symbols.filter((s): s is string => typeof s === "string")
    : Object.keys(cache)
  return { state: { extra, entries: cache, validated } }
}

/** Indent 2 and field order as KTRDR writes it. */
export const encodeCache = (s: CacheState, nowMs: number): string =>
  JSON.stringify({ cache: s.entries, validated_symbols: s.validated, last_updated: nowMs / 1000, ...s.extra }, null, 2)
