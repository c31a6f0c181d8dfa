/**
 * The simulator's instrument catalog. Stocks, forex pairs and indices carry IB's real contract ids;
 * futures contract ids are synthetic (stable per expiry) because IB assigns new ids to every listing.
 */
import type { CalendarId } from "../domain/calendar/index.ts"

export type SecType = "STK" | "CASH" | "FUT" | "IND"
export type WhatToShow = "TRADES" | "MIDPOINT" | "BID" | "ASK" | "BID_ASK"

export interface Instrument {
  readonly conId: number
  readonly symbol: string
  readonly secType: SecType
  readonly exchange: string
  readonly primaryExch: string
  readonly currency: string
  readonly localSymbol: string
  readonly tradingClass: string
  readonly marketName: string
  readonly longName: string
  readonly minTick: number
  readonly multiplier: string
  readonly calendar: CalendarId
  /** First trading day IB has data for; the head timestamp is that day's session open. */
  readonly headDay: string
  /** Last instant with data (futures expiry), epoch ms; undefined = still trading. */
  readonly lastDataMs?: number
  readonly whatToShow: ReadonlyArray<WhatToShow>
  /** Instruments sharing a pathKey share one price path (futures of one root across expiries). */
  readonly pathKey: string
  readonly pathHeadDay: string
  readonly level: number
  readonly annualVol: number
  /** Average regular-session volume per day in IB's units; 0 = the instrument reports no volume. */
  readonly dailyVolume: number
  readonly spreadTicks: number
  readonly industry: string
  readonly category: string
  readonly subcategory: string
  readonly secIds: ReadonlyArray<readonly [string, string]>
  readonly stockType: string
  readonly validExchanges: string
  readonly marketRuleIds: string
  readonly underConId: number
  readonly underSymbol: string
  readonly underSecType: string
  readonly lastTradeDateOrContractMonth: string
  readonly lastTradeDate: string
  readonly contractMonth: string
  readonly realExpirationDate: string
  readonly sizeRules: readonly [number, number, number]
  readonly aggGroup: number
}

const ORDER_TYPES_STK =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,BENCHPX,COND,CONDORDER,DARKONLY,DARKPOLL,DAY," +
  "DEACT,DEACTDIS,DEACTEOD,DIS,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC," +
  "MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL," +
  "REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD,SCALERST,SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP," +
  "TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
const ORDER_TYPES_CASH =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,DEACTDIS," +
  "DEACTEOD,GAT,GTC,GTD,GTT,IOC,LIMIT,LMT,MKT,NONALGO,OCA,REL,RELPCTOFS,SCALE,SCALERST,STP,STPLMT," +
  "TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
const ORDER_TYPES_FUT =
  "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,DEACTEOD,GAT," +
  "GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,LTH,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,PEGBENCH,SCALE,SCALERST,SNAPMID," +
  "SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"

export const orderTypesFor = (i: Instrument): string =>
  i.secType === "STK"
    ? ORDER_TYPES_STK
    : i.secType === "CASH"
    ? ORDER_TYPES_CASH
    : i.secType === "FUT"
    ? ORDER_TYPES_FUT
    : ""

const base = {
  lastTradeDateOrContractMonth: "",
  lastTradeDate: "",
  contractMonth: "",
  realExpirationDate: "",
  underConId: 0,
  underSymbol: "",
  underSecType: "",
  aggGroup: 1
} as const

const stock = (
  conId: number,
  symbol: string,
  primaryExch: string,
  longName: string,
  headDay: string,
  level: number,
  annualVol: number,
  dailyVolume: number,
  isin: string,
  industry: string,
  category: string,
  subcategory: string,
  stockType = "COMMON"
): Instrument => ({
  ...base,
  conId,
  symbol,
  secType: "STK",
  exchange: "SMART",
  primaryExch,
  currency: "USD",
  localSymbol: symbol,
  tradingClass: primaryExch === "NASDAQ" ? "NMS" : symbol,
  marketName: primaryExch === "NASDAQ" ? "NMS" : symbol,
  longName,
  minTick: 0.01,
  multiplier: "",
  calendar: "us-equity",
  headDay,
  whatToShow: ["TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"],
  pathKey: symbol,
  pathHeadDay: headDay,
  level,
  annualVol,
  dailyVolume,
  spreadTicks: 1,
  industry,
  category,
  subcategory,
  secIds: [["ISIN", isin]],
  stockType,
  validExchanges: "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX," +
    "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX",
  marketRuleIds: "26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26,26",
  sizeRules: [0.0001, 0.0001, 100]
})

const forex = (
  conId: number,
  symbol: string,
  currency: string,
  longName: string,
  level: number,
  annualVol: number,
  minTick: number
): Instrument => ({
  ...base,
  conId,
  symbol,
  secType: "CASH",
  exchange: "IDEALPRO",
  primaryExch: "",
  currency,
  localSymbol: `${symbol}.${currency}`,
  tradingClass: `${symbol}.${currency}`,
  marketName: `${symbol}.${currency}`,
  longName,
  minTick,
  multiplier: "",
  calendar: "forex",
  headDay: "2005-03-01",
  whatToShow: ["MIDPOINT", "BID", "ASK", "BID_ASK"],
  pathKey: `${symbol}.${currency}`,
  pathHeadDay: "2005-03-01",
  level,
  annualVol,
  dailyVolume: 0,
  spreadTicks: 2,
  industry: "",
  category: "",
  subcategory: "",
  secIds: [],
  stockType: "",
  validExchanges: "IDEALPRO",
  marketRuleIds: "239",
  sizeRules: [0.01, 0.01, 0.01],
  aggGroup: 4
})

const index = (
  conId: number,
  symbol: string,
  exchange: string,
  longName: string,
  headDay: string,
  level: number,
  annualVol: number
): Instrument => ({
  ...base,
  conId,
  symbol,
  secType: "IND",
  exchange,
  primaryExch: "",
  currency: "USD",
  localSymbol: symbol,
  tradingClass: symbol,
  marketName: symbol,
  longName,
  minTick: 0.01,
  multiplier: "",
  calendar: "us-index",
  headDay,
  whatToShow: ["TRADES"],
  pathKey: symbol,
  pathHeadDay: headDay,
  level,
  annualVol,
  dailyVolume: 0,
  spreadTicks: 1,
  industry: "Indices",
  category: "Broad Range Equity Index",
  subcategory: "*",
  secIds: [],
  stockType: "",
  validExchanges: exchange,
  marketRuleIds: "1220",
  sizeRules: [1, 1, 1]
})

/** Stocks, forex pairs and indices: conIds as IB assigns them. */
export const SPOT: ReadonlyArray<Instrument> = [
  stock(
    265598,
    "AAPL",
    "NASDAQ",
    "APPLE INC",
    "1980-12-12",
    200,
    0.28,
    550_000,
    "US0378331005",
    "Technology",
    "Computers",
    "Computers"
  ),
  stock(
    272093,
    "MSFT",
    "NASDAQ",
    "MICROSOFT CORP",
    "1986-03-13",
    420,
    0.25,
    220_000,
    "US5949181045",
    "Technology",
    "Software",
    "Applications Software"
  ),
  stock(
    8314,
    "IBM",
    "NYSE",
    "INTL BUSINESS MACHINES CORP",
    "1973-01-02",
    230,
    0.22,
    45_000,
    "US4592001014",
    "Technology",
    "Computers",
    "Computer Services"
  ),
  stock(
    756733,
    "SPY",
    "ARCA",
    "SPDR S&P 500 ETF TRUST",
    "1993-01-29",
    580,
    0.17,
    600_000,
    "US78462F1030",
    "Funds",
    "Equity Fund",
    "Growth&Income-Large Cap",
    "ETF"
  ),
  stock(
    320227571,
    "QQQ",
    "NASDAQ",
    "INVESCO QQQ TRUST SERIES 1",
    "1999-03-10",
    500,
    0.22,
    400_000,
    "US46090E1038",
    "Funds",
    "Equity Fund",
    "Growth-Large Cap",
    "ETF"
  ),
  stock(
    76792991,
    "TSLA",
    "NASDAQ",
    "TESLA INC",
    "2010-06-29",
    250,
    0.55,
    900_000,
    "US88160R1014",
    "Consumer, Cyclical",
    "Auto Manufacturers",
    "Auto-Cars/Light Trucks"
  ),
  stock(
    3691937,
    "AMZN",
    "NASDAQ",
    "AMAZON.COM INC",
    "1997-05-15",
    200,
    0.32,
    400_000,
    "US0231351067",
    "Communications",
    "Internet",
    "E-Commerce/Products"
  ),
  stock(
    4815747,
    "NVDA",
    "NASDAQ",
    "NVIDIA CORP",
    "1999-01-22",
    130,
    0.5,
    2_500_000,
    "US67066G1040",
    "Technology",
    "Semiconductors",
    "Electronic Compo-Semicon"
  ),
  stock(
    208813719,
    "GOOGL",
    "NASDAQ",
    "ALPHABET INC-CL A",
    "2004-08-19",
    170,
    0.3,
    250_000,
    "US02079K3059",
    "Communications",
    "Internet",
    "Web Portals/ISP"
  ),
  forex(12087792, "EUR", "USD", "European Monetary Union Euro", 1.08, 0.08, 0.00005),
  forex(12087797, "GBP", "USD", "British pound", 1.27, 0.09, 0.00005),
  forex(15016059, "USD", "JPY", "US Dollar", 150, 0.1, 0.005),
  forex(12087820, "USD", "CHF", "US Dollar", 0.88, 0.08, 0.00005),
  forex(14433401, "AUD", "USD", "Australian dollar", 0.66, 0.1, 0.00005),
  forex(15016062, "USD", "CAD", "US Dollar", 1.37, 0.07, 0.00005),
  forex(12087807, "EUR", "GBP", "European Monetary Union Euro", 0.85, 0.07, 0.00005),
  forex(14321016, "EUR", "JPY", "European Monetary Union Euro", 162, 0.1, 0.005),
  index(416904, "SPX", "CBOE", "S&P 500 Stock Index", "1990-01-02", 5800, 0.17),
  index(416843, "NDX", "NASDAQ", "NASDAQ 100 Stock Index", "1990-01-02", 20500, 0.22),
  index(13455763, "VIX", "CBOE", "CBOE Volatility Index", "2004-03-26", 16, 0.9)
]

interface FutureRoot {
  readonly symbol: string
  readonly longName: string
  readonly multiplier: string
  readonly underConId: number
  readonly conIdBase: number
  readonly level: number
  readonly annualVol: number
  readonly dailyVolume: number
  readonly pathHeadDay: string
}

export const FUTURE_ROOTS: ReadonlyArray<FutureRoot> = [
  {
    symbol: "ES",
    longName: "E-mini S&P 500",
    multiplier: "50",
    underConId: 11004968,
    conIdBase: 620_000_000,
    level: 5850,
    annualVol: 0.17,
    dailyVolume: 1_500_000,
    pathHeadDay: "1997-09-09"
  },
  {
    symbol: "NQ",
    longName: "E-mini NASDAQ 100",
    multiplier: "20",
    underConId: 11004958,
    conIdBase: 630_000_000,
    level: 20600,
    annualVol: 0.22,
    dailyVolume: 500_000,
    pathHeadDay: "1999-06-21"
  }
]

const MONTH_CODES: Record<number, string> = { 3: "H", 6: "M", 9: "U", 12: "Z" }

const pad2 = (n: number) => String(n).padStart(2, "0")

/** Third Friday of a month: CME equity index futures expire on it (trading ends 08:30 CT). */
export const thirdFriday = (year: number, month: number): string => {
  const firstDow = new Date(Date.UTC(year, month - 1, 1)).getUTCDay()
  const day = 1 + ((5 - firstDow + 7) % 7) + 14
  return `${year}-${pad2(month)}-${pad2(day)}`
}

/**
 * One contract of a root. The listing day (head) is two years before expiry, roughly when CME lists
 * the quarterly; data ends at the expiry's 08:30 CT final settlement.
 */
export const futureContract = (root: FutureRoot, year: number, month: number, expiryCloseMs: number): Instrument => {
  const expiry = thirdFriday(year, month)
  const ymd = expiry.replaceAll("-", "")
  return {
    conId: root.conIdBase + year * 100 + month,
    symbol: root.symbol,
    secType: "FUT",
    exchange: "CME",
    primaryExch: "",
    currency: "USD",
    localSymbol: `${root.symbol}${MONTH_CODES[month]}${year % 10}`,
    tradingClass: root.symbol,
    marketName: root.symbol,
    longName: root.longName,
    minTick: 0.25,
    multiplier: root.multiplier,
    calendar: "cme-equity-futures",
    headDay: `${year - 2}-${pad2(month)}-01`,
    lastDataMs: expiryCloseMs,
    whatToShow: ["TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK"],
    pathKey: root.symbol,
    pathHeadDay: root.pathHeadDay,
    level: root.level,
    annualVol: root.annualVol,
    dailyVolume: root.dailyVolume,
    spreadTicks: 1,
    industry: "Indices",
    category: "Broad Range Equity Index",
    subcategory: "*",
    secIds: [],
    stockType: "",
    validExchanges: "CME,QBALGO",
    marketRuleIds: "67,67",
    underConId: root.underConId,
    underSymbol: root.symbol,
    underSecType: "IND",
    lastTradeDateOrContractMonth: `${ymd} 08:30 US/Central`,
    lastTradeDate: ymd,
    contractMonth: `${year}${pad2(month)}`,
    realExpirationDate: ymd,
    sizeRules: [1, 1, 1],
    aggGroup: 2147483647
  }
}
