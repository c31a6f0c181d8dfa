/**
 * Decoding of client requests by negotiated server version (tws-protocol.md §2.5; the thresholds are in
 * versions.ts). Field positions are named once per version here and every value is checked by a Schema, so
 * a malformed message is a typed failure rather than a NaN travelling through the simulator.
 */
import { Either, ParseResult, Schema } from "effect"
import { Req, reqName } from "./protocol.ts"
import { MinVer } from "./versions.ts"

/** IB's `readInt` semantics: "" is 0; anything else must be an integer. */
const IbInt = Schema.transformOrFail(Schema.String, Schema.Int, {
  strict: true,
  decode: (s, _, ast) =>
    s === ""
      ? ParseResult.succeed(0)
      : /^-?\d{1,10}$/.test(s)
      ? ParseResult.succeed(Number(s))
      : ParseResult.fail(new ParseResult.Type(ast, s, `not an integer: ${JSON.stringify(s)}`)),
  encode: (n) => ParseResult.succeed(String(n))
})

/** Clients send flags as 0/1, some (Python ones) as True/False. */
const IbBool = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  strict: true,
  decode: (s, _, ast) =>
    s === "" || s === "0" || s === "False" || s === "false"
      ? ParseResult.succeed(false)
      : s === "1" || s === "True" || s === "true"
      ? ParseResult.succeed(true)
      : ParseResult.fail(new ParseResult.Type(ast, s, `not a 0/1 flag: ${JSON.stringify(s)}`)),
  encode: (b) => ParseResult.succeed(b ? "1" : "0")
})

const Str = Schema.String

const contractFields = {
  conId: IbInt,
  symbol: Str,
  secType: Str,
  lastTradeDateOrContractMonth: Str,
  strike: Str,
  right: Str,
  multiplier: Str,
  exchange: Str,
  primaryExch: Str,
  currency: Str,
  localSymbol: Str,
  tradingClass: Str,
  includeExpired: IbBool
} as const
const contractNames = Object.keys(contractFields)

export const StartApi = Schema.Struct({ version: IbInt, clientId: IbInt, optionalCapabilities: Str })
export const Versioned = Schema.Struct({ version: IbInt })
export const ReqIds = Schema.Struct({ version: IbInt, numIds: IbInt })
export const LogLevel = Schema.Struct({ version: IbInt, level: IbInt })
export const ContractData = Schema.Struct({
  version: IbInt,
  reqId: IbInt,
  ...contractFields,
  secIdType: Str,
  secId: Str,
  issuerId: Str
})
export const HeadTimestamp = Schema.Struct({
  reqId: IbInt,
  ...contractFields,
  useRTH: IbBool,
  whatToShow: Str,
  formatDate: IbInt
})
export const ReqIdOnly = Schema.Struct({ reqId: IbInt })
export const HistoricalData = Schema.Struct({
  reqId: IbInt,
  ...contractFields,
  endDateTime: Str,
  barSize: Str,
  duration: Str,
  useRTH: IbBool,
  whatToShow: Str,
  formatDate: IbInt,
  keepUpToDate: IbBool,
  chartOptions: Str
})
export const VersionedReqId = Schema.Struct({ version: IbInt, reqId: IbInt })
export const AccountSummary = Schema.Struct({ version: IbInt, reqId: IbInt, group: Str, tags: Str })
export const AutoOpenOrders = Schema.Struct({ version: IbInt, autoBind: IbBool })
export const CompletedOrders = Schema.Struct({ apiOnly: IbBool })
export const Executions = Schema.Struct({
  version: IbInt,
  reqId: IbInt,
  clientId: IbInt,
  acctCode: Str,
  time: Str,
  symbol: Str,
  secType: Str,
  exchange: Str,
  side: Str
})
export const AccountData = Schema.Struct({ version: IbInt, subscribe: IbBool, acctCode: Str })
export const AccountUpdatesMulti = Schema.Struct({
  version: IbInt,
  reqId: IbInt,
  account: Str,
  modelCode: Str,
  ledgerAndNLV: IbBool
})
export const PositionsMulti = Schema.Struct({ version: IbInt, reqId: IbInt, account: Str, modelCode: Str })
export const MarketDataType = Schema.Struct({ version: IbInt, marketDataType: IbInt })
export const OrderId = Schema.Struct({ orderId: IbInt })

interface Layout {
  readonly tag: string
  readonly schema: Schema.Schema<unknown, Record<string, string>>
  /** The fields this version sends, in order; a schema field missing here decodes from "". */
  readonly names: ReadonlyArray<string>
  /** Trading requests: only the leading fields are read, whatever follows (orders run to hundreds). */
  readonly prefix?: boolean
}

const L = (
  tag: string,
  schema: Schema.Schema<any, any>,
  names: ReadonlyArray<string | false>,
  prefix = false
): Layout => ({ tag, schema, names: names.filter((n): n is string => n !== false), prefix })

/** The layout of message `msgId` as a client speaking server version `v` sends it. */
const layoutOf = (msgId: number, v: number): Layout | undefined => {
  switch (msgId) {
    case Req.START_API:
      return L("StartApi", StartApi, ["version", "clientId", "optionalCapabilities"])
    case Req.REQ_CURRENT_TIME:
      return L("CurrentTime", Versioned, ["version"])
    case Req.REQ_IDS:
      return L("ReqIds", ReqIds, ["version", "numIds"])
    case Req.REQ_MANAGED_ACCTS:
      return L("ManagedAccts", Versioned, ["version"])
    case Req.SET_SERVER_LOGLEVEL:
      return L("LogLevel", LogLevel, ["version", "level"])
    case Req.REQ_CONTRACT_DATA:
      return L("ContractData", ContractData, [
        "version",
        "reqId",
        ...contractNames,
        "secIdType",
        "secId",
        v >= MinVer.BOND_ISSUERID && "issuerId"
      ])
    case Req.REQ_HEAD_TIMESTAMP:
      return v >= MinVer.REQ_HEAD_TIMESTAMP
        ? L("HeadTimestamp", HeadTimestamp, ["reqId", ...contractNames, "useRTH", "whatToShow", "formatDate"])
        : undefined
    case Req.CANCEL_HEAD_TIMESTAMP:
      return v >= MinVer.CANCEL_HEADTIMESTAMP ? L("CancelHeadTimestamp", ReqIdOnly, ["reqId"]) : undefined
    case Req.REQ_HISTORICAL_DATA: {
      const synt = v >= MinVer.SYNT_REALTIME_BARS
      return L("HistoricalData", HistoricalData, [
        !synt && "version",
        "reqId",
        ...contractNames,
        "endDateTime",
        "barSize",
        "duration",
        "useRTH",
        "whatToShow",
        "formatDate",
        synt && "keepUpToDate",
        "chartOptions"
      ])
    }
    case Req.CANCEL_HISTORICAL_DATA:
      return L("CancelHistoricalData", VersionedReqId, ["version", "reqId"])
    case Req.REQ_POSITIONS:
      return L("Positions", Versioned, ["version"])
    case Req.CANCEL_POSITIONS:
      return L("CancelPositions", Versioned, ["version"])
    case Req.REQ_ACCOUNT_SUMMARY:
      return L("AccountSummary", AccountSummary, ["version", "reqId", "group", "tags"])
    case Req.CANCEL_ACCOUNT_SUMMARY:
      return L("CancelAccountSummary", VersionedReqId, ["version", "reqId"])
    case Req.REQ_OPEN_ORDERS:
      return L("OpenOrders", Versioned, ["version"])
    case Req.REQ_ALL_OPEN_ORDERS:
      return L("AllOpenOrders", Versioned, ["version"])
    case Req.REQ_AUTO_OPEN_ORDERS:
      return L("AutoOpenOrders", AutoOpenOrders, ["version", "autoBind"])
    case Req.REQ_COMPLETED_ORDERS:
      return v >= MinVer.REQ_COMPLETED_ORDERS ? L("CompletedOrders", CompletedOrders, ["apiOnly"]) : undefined
    case Req.REQ_EXECUTIONS:
      return L("Executions", Executions, [
        "version",
        "reqId",
        "clientId",
        "acctCode",
        "time",
        "symbol",
        "secType",
        "exchange",
        "side"
      ])
    case Req.REQ_ACCOUNT_DATA:
      return L("AccountData", AccountData, ["version", "subscribe", "acctCode"])
    case Req.REQ_ACCOUNT_UPDATES_MULTI:
      return L("AccountUpdatesMulti", AccountUpdatesMulti, ["version", "reqId", "account", "modelCode", "ledgerAndNLV"])
    case Req.CANCEL_ACCOUNT_UPDATES_MULTI:
      return L("CancelAccountUpdatesMulti", VersionedReqId, ["version", "reqId"])
    case Req.REQ_POSITIONS_MULTI:
      return L("PositionsMulti", PositionsMulti, ["version", "reqId", "account", "modelCode"])
    case Req.CANCEL_POSITIONS_MULTI:
      return L("CancelPositionsMulti", VersionedReqId, ["version", "reqId"])
    case Req.REQ_MARKET_DATA_TYPE:
      return L("MarketDataType", MarketDataType, ["version", "marketDataType"])
    case Req.PLACE_ORDER:
      return L("PlaceOrder", OrderId, [v < MinVer.ORDER_CONTAINER && "version", "orderId"], true)
    case Req.CANCEL_ORDER:
      return L("CancelOrder", OrderId, [v < MinVer.CME_TAGGING_FIELDS && "version", "orderId"], true)
    case Req.EXERCISE_OPTIONS:
      return L("ExerciseOptions", VersionedReqId, ["version", "reqId"], true)
    case Req.REQ_GLOBAL_CANCEL:
      return L("GlobalCancel", Schema.Struct({}), [], true)
    default:
      return undefined
  }
}

type M<S extends Schema.Schema<any, any>> = S["Type"]

export type Request =
  | { readonly _tag: "StartApi"; readonly m: M<typeof StartApi> }
  | { readonly _tag: "CurrentTime" | "ManagedAccts" | "Positions" | "CancelPositions"; readonly m: M<typeof Versioned> }
  | { readonly _tag: "OpenOrders" | "AllOpenOrders"; readonly m: M<typeof Versioned> }
  | { readonly _tag: "ReqIds"; readonly m: M<typeof ReqIds> }
  | { readonly _tag: "LogLevel"; readonly m: M<typeof LogLevel> }
  | { readonly _tag: "ContractData"; readonly m: M<typeof ContractData> }
  | { readonly _tag: "HeadTimestamp"; readonly m: M<typeof HeadTimestamp> }
  | { readonly _tag: "CancelHeadTimestamp"; readonly m: M<typeof ReqIdOnly> }
  | { readonly _tag: "HistoricalData"; readonly m: M<typeof HistoricalData> }
  | {
    readonly _tag:
      | "CancelHistoricalData"
      | "CancelAccountSummary"
      | "CancelAccountUpdatesMulti"
      | "CancelPositionsMulti"
      | "ExerciseOptions"
    readonly m: M<typeof VersionedReqId>
  }
  | { readonly _tag: "AccountSummary"; readonly m: M<typeof AccountSummary> }
  | { readonly _tag: "AutoOpenOrders"; readonly m: M<typeof AutoOpenOrders> }
  | { readonly _tag: "CompletedOrders"; readonly m: M<typeof CompletedOrders> }
  | { readonly _tag: "Executions"; readonly m: M<typeof Executions> }
  | { readonly _tag: "AccountData"; readonly m: M<typeof AccountData> }
  | { readonly _tag: "AccountUpdatesMulti"; readonly m: M<typeof AccountUpdatesMulti> }
  | { readonly _tag: "PositionsMulti"; readonly m: M<typeof PositionsMulti> }
  | { readonly _tag: "MarketDataType"; readonly m: M<typeof MarketDataType> }
  | { readonly _tag: "PlaceOrder" | "CancelOrder"; readonly m: M<typeof OrderId> }
  | { readonly _tag: "GlobalCancel"; readonly m: object }
  | { readonly _tag: "Unsupported"; readonly msgId: number; readonly name: string; readonly reqId: number }

/**
 * Requests the simulator does not serve but whose request id it can find (by the public layouts), so the
 * refusal reaches the caller's pending request rather than the connection at large: the index of the id
 * among the fields after the message id, or -1 when the request carries none.
 */
const unsupportedReqIdAt = (msgId: number, v: number): number => {
  const versionThenId: ReadonlyArray<number> = [
    Req.REQ_MKT_DATA,
    Req.CANCEL_MKT_DATA,
    Req.REQ_MKT_DEPTH,
    Req.CANCEL_MKT_DEPTH,
    Req.CANCEL_SCANNER_SUBSCRIPTION,
    Req.REQ_REAL_TIME_BARS,
    Req.CANCEL_REAL_TIME_BARS,
    Req.REQ_FUNDAMENTAL_DATA,
    Req.CANCEL_FUNDAMENTAL_DATA,
    Req.REQ_CALC_IMPLIED_VOLAT,
    Req.REQ_CALC_OPTION_PRICE,
    Req.CANCEL_CALC_IMPLIED_VOLAT,
    Req.CANCEL_CALC_OPTION_PRICE
  ]
  if (versionThenId.includes(msgId)) return 1
  if (msgId === Req.REQ_SCANNER_SUBSCRIPTION) return v < 143 ? 1 : 0
  const idFirst: ReadonlyArray<number> = [
    Req.REQ_SEC_DEF_OPT_PARAMS,
    Req.REQ_MATCHING_SYMBOLS,
    Req.REQ_SMART_COMPONENTS,
    Req.REQ_NEWS_ARTICLE,
    Req.REQ_HISTORICAL_NEWS,
    Req.REQ_HISTOGRAM_DATA,
    Req.CANCEL_HISTOGRAM_DATA,
    Req.REQ_PNL,
    Req.CANCEL_PNL,
    Req.REQ_PNL_SINGLE,
    Req.CANCEL_PNL_SINGLE,
    Req.REQ_HISTORICAL_TICKS,
    Req.REQ_TICK_BY_TICK_DATA,
    Req.CANCEL_TICK_BY_TICK_DATA,
    Req.REQ_WSH_META_DATA,
    Req.CANCEL_WSH_META_DATA,
    Req.REQ_WSH_EVENT_DATA,
    Req.CANCEL_WSH_EVENT_DATA,
    Req.REQ_USER_INFO,
    Req.REQ_SOFT_DOLLAR_TIERS
  ]
  return idFirst.includes(msgId) ? 0 : -1
}

/**
 * Decodes one message as a client of server version `v` lays it out. An id this simulator does not serve is
 * `Unsupported` (answered with an error, never ignored); a served id with the wrong field count or bad
 * values is a `Left` (the gateway's 320 "Error reading request").
 */
export const decodeRequest = (fields: ReadonlyArray<string>, v: number): Either.Either<Request, string> => {
  if (!/^\d{1,6}$/.test(fields[0] ?? "")) return Either.left(`message id ${JSON.stringify(fields[0])} is not a number`)
  const msgId = Number(fields[0])
  const rest = fields.slice(1)
  const layout = layoutOf(msgId, v)
  if (!layout) {
    const at = unsupportedReqIdAt(msgId, v)
    const raw = at >= 0 ? rest[at] ?? "" : ""
    const reqId = /^-?\d{1,10}$/.test(raw) ? Number(raw) : -1
    return Either.right({ _tag: "Unsupported", msgId, name: reqName(msgId), reqId })
  }
  const n = layout.names.length
  if (layout.prefix ? rest.length < n : rest.length !== n) {
    const expected = `${layout.prefix ? "≥ " : ""}${n}`
    return Either.left(`${reqName(msgId)} at v${v} has ${rest.length} fields, expected ${expected}`)
  }
  const record: Record<string, string> = {}
  const sf = (layout.schema as unknown as { fields?: Record<string, unknown> }).fields ?? {}
  for (const k of Object.keys(sf)) record[k] = ""
  layout.names.forEach((name, i) => (record[name] = rest[i]!))
  return Schema.decodeUnknownEither(layout.schema)(record).pipe(
    Either.map((m) => ({ _tag: layout.tag, m }) as Request),
    Either.mapLeft((e) => `${reqName(msgId)}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`)
  )
}
