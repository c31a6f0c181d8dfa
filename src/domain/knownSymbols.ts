/**
 * Reference lists behind symbol normalisation and "did you mean" suggestions. They only steer
 * the order of IB lookups and the hints shown for typos: IB's contract details stay the authority
 * on what exists, so a symbol missing from these lists still resolves.
 */

/**
 * ISO 4217 codes IB quotes on IDEALPRO. A six-letter input made of two of these is read as a
 * forex pair (KTRDR knew only 11; its 28-pair table was never used in the flow).
 */
export const CURRENCIES: ReadonlySet<string> = new Set([
  "USD",
  "EUR",
  "GBP",
  "JPY",
  "CHF",
  "AUD",
  "CAD",
  "NZD",
  "SEK",
  "NOK",
  "DKK",
  "HKD",
  "SGD",
  "CNH",
  "MXN",
  "ZAR",
  "TRY",
  "PLN",
  "HUF",
  "CZK",
  "ILS",
  "KRW",
  "RUB",
  "AED",
  "SAR"
])

/** Indices tried as IND first, with the exchange IB lists them on. */
export const KNOWN_INDICES: Readonly<Record<string, string>> = {
  SPX: "CBOE",
  XSP: "CBOE",
  OEX: "CBOE",
  VIX: "CBOE",
  DJX: "CBOE",
  NDX: "NASDAQ",
  RUT: "RUSSELL"
}

/**
 * Futures roots tried as FUT first and then as a stock: `ES` is also Eversource Energy's ticker,
 * but a trader typing `ES` means the future. A caller that means the stock asks for secType STK.
 */
export const FUTURE_ROOTS: Readonly<Record<string, string>> = {
  ES: "CME",
  NQ: "CME",
  RTY: "CME",
  MES: "CME",
  MNQ: "CME",
  M2K: "CME",
  "6E": "CME",
  "6J": "CME",
  "6B": "CME",
  "6A": "CME",
  "6C": "CME",
  "6S": "CME",
  YM: "CBOT",
  MYM: "CBOT",
  ZB: "CBOT",
  ZN: "CBOT",
  ZF: "CBOT",
  ZT: "CBOT",
  ZC: "CBOT",
  ZS: "CBOT",
  ZW: "CBOT",
  CL: "NYMEX",
  MCL: "NYMEX",
  NG: "NYMEX",
  RB: "NYMEX",
  HO: "NYMEX",
  GC: "COMEX",
  MGC: "COMEX",
  SI: "COMEX",
  HG: "COMEX"
}

/** The 28 most traded pairs (KTRDR's table), in display form. */
export const MAJOR_PAIRS: ReadonlyArray<string> = [
  "EUR.USD",
  "GBP.USD",
  "USD.JPY",
  "USD.CHF",
  "AUD.USD",
  "USD.CAD",
  "NZD.USD",
  "EUR.JPY",
  "GBP.JPY",
  "AUD.JPY",
  "CAD.JPY",
  "CHF.JPY",
  "NZD.JPY",
  "EUR.GBP",
  "EUR.AUD",
  "EUR.CAD",
  "EUR.CHF",
  "EUR.NZD",
  "GBP.AUD",
  "GBP.CAD",
  "GBP.CHF",
  "GBP.NZD",
  "AUD.CAD",
  "AUD.CHF",
  "AUD.NZD",
  "CAD.CHF",
  "NZD.CAD",
  "NZD.CHF"
]

const STOCKS = [
  "AAPL",
  "MSFT",
  "IBM",
  "SPY",
  "QQQ",
  "TSLA",
  "AMZN",
  "NVDA",
  "GOOGL",
  "GOOG",
  "META",
  "NFLX",
  "AMD",
  "INTC",
  "ORCL",
  "JPM",
  "BAC",
  "WMT",
  "DIS",
  "KO",
  "PEP",
  "XOM",
  "CVX",
  "V",
  "MA",
  "JNJ",
  "PG",
  "UNH",
  "HD",
  "IWM",
  "DIA",
  "GLD",
  "TLT",
  "BRK.B"
]

/** Display forms suggestions are drawn from (the catalog adds every cached symbol). */
export const KNOWN_SYMBOLS: ReadonlyArray<string> = [
  ...MAJOR_PAIRS,
  ...STOCKS,
  ...Object.keys(KNOWN_INDICES),
  ...Object.keys(FUTURE_ROOTS)
]

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (APPL → AAPL is 1). */
export const editDistance = (a: string, b: string): number => {
  const rows: Array<Array<number>> = []
  for (let i = 0; i <= a.length; i++) {
    const row: Array<number> = [i]
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j)
        continue
      }
      const up = rows[i - 1]!
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(up[j]! + 1, row[j - 1]! + 1, up[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1)
      row.push(d)
    }
    rows.push(row)
  }
  return rows[a.length]![b.length]!
}

const compact = (s: string) => s.toUpperCase().replace(/[./^]/g, "")

/**
 * Up to `max` known symbols close to `input` (distance ≤ 1 for inputs of ≤ 3 characters, else ≤ 2),
 * nearest first. A six-letter pair of currencies also suggests its inverse (`USDEUR` → `EUR.USD`),
 * as KTRDR's forex hint did. Compared without separators, so `EURUSX` finds `EUR.USD`.
 */
export const suggestSymbols = (input: string, extra: Iterable<string> = [], max = 3): ReadonlyArray<string> => {
  const target = compact(input)
  if (target.length === 0) return []
  const limit = target.length <= 3 ? 1 : 2
  const scored = new Map<string, number>()
  const consider = (s: string, d: number) => {
    const prev = scored.get(s)
    if (prev === undefined || d < prev) scored.set(s, d)
  }
  if (target.length === 6) {
    const b = target.slice(0, 3), q = target.slice(3)
    if (CURRENCIES.has(b) && CURRENCIES.has(q) && MAJOR_PAIRS.includes(`${q}.${b}`)) consider(`${q}.${b}`, 0)
  }
  for (const s of [...KNOWN_SYMBOLS, ...extra]) {
    const c = compact(s)
    if (c === target) continue
    const d = editDistance(target, c)
    if (d <= limit) consider(s, d)
  }
  return [...scored.entries()].sort((x, y) => x[1] - y[1]).slice(0, max).map(([s]) => s)
}
