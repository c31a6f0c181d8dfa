/**
 * Decoding of client requests at server version 193 (tws-protocol.md §2.5). Field positions are named
 * once here and every value is checked by a Schema, so a malformed message is a typed failure rather
 * than a NaN travelling through the simulator.
 */
import { Either, ParseResult, Schema } from "effect"
import { Req } from "./protocol.ts"

/** IB's `readInt` semantics: "" is 0; anything else must be an integer. */
const IbInt = Schema.transformOrFail(Schema.String, Schema.Int, {
  strict: true,
  decode: (
    s,
    _,
    ast
  ) => (s === ""
    ? ParseResult.succeed(0)
    : /^-?\d{1,10}$/.test(s)
    ? ParseResult.succeed(Number(s))
    : ParseResult.fail(new ParseResult.Type(ast, s, `not an integer: ${JSON.stringify(s)}`))),
  encode: (n) => ParseResult.succeed(String(n))
})

const IbBool = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  strict: true,
  decode: (
    s,
    _,
    ast
  ) => (s === "" || s === "0"
    ? ParseResult.succeed(false)
    : s === "1"
    ? ParseResult.succeed(true)
    : ParseResult.fail(new ParseResult.Type(ast, s, `not a 0/1 flag: ${JSON.stringify(s)}`))),
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
export const CurrentTime = Schema.Struct({ version: IbInt })
export const ReqIds = Schema.Struct({ version: IbInt, numIds: IbInt })
export const ManagedAccts = Schema.Struct({ version: IbInt })
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
export const CancelHeadTimestamp = Schema.Struct({ reqId: IbInt })
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
export const CancelHistoricalData = Schema.Struct({ version: IbInt, reqId: IbInt })

const layouts = {
  [Req.START_API]: { schema: StartApi, names: ["version", "clientId", "optionalCapabilities"] },
  [Req.REQ_CURRENT_TIME]: { schema: CurrentTime, names: ["version"] },
  [Req.REQ_IDS]: { schema: ReqIds, names: ["version", "numIds"] },
  [Req.REQ_MANAGED_ACCTS]: { schema: ManagedAccts, names: ["version"] },
  [Req.SET_SERVER_LOGLEVEL]: { schema: LogLevel, names: ["version", "level"] },
  [Req.REQ_CONTRACT_DATA]: {
    schema: ContractData,
    names: ["version", "reqId", ...contractNames, "secIdType", "secId", "issuerId"]
  },
  [Req.REQ_HEAD_TIMESTAMP]: {
    schema: HeadTimestamp,
    names: ["reqId", ...contractNames, "useRTH", "whatToShow", "formatDate"]
  },
  [Req.CANCEL_HEAD_TIMESTAMP]: { schema: CancelHeadTimestamp, names: ["reqId"] },
  [Req.REQ_HISTORICAL_DATA]: {
    schema: HistoricalData,
    names: [
      "reqId",
      ...contractNames,
      "endDateTime",
      "barSize",
      "duration",
      "useRTH",
      "whatToShow",
      "formatDate",
      "keepUpToDate",
      "chartOptions"
    ]
  },
  [Req.CANCEL_HISTORICAL_DATA]: { schema: CancelHistoricalData, names: ["version", "reqId"] }
} as const

export type Request =
  | { readonly _tag: "StartApi"; readonly m: typeof StartApi.Type }
  | { readonly _tag: "CurrentTime"; readonly m: typeof CurrentTime.Type }
  | { readonly _tag: "ReqIds"; readonly m: typeof ReqIds.Type }
  | { readonly _tag: "ManagedAccts"; readonly m: typeof ManagedAccts.Type }
  | { readonly _tag: "LogLevel"; readonly m: typeof LogLevel.Type }
  | { readonly _tag: "ContractData"; readonly m: typeof ContractData.Type }
  | { readonly _tag: "HeadTimestamp"; readonly m: typeof HeadTimestamp.Type }
  | { readonly _tag: "CancelHeadTimestamp"; readonly m: typeof CancelHeadTimestamp.Type }
  | { readonly _tag: "HistoricalData"; readonly m: typeof HistoricalData.Type }
  | { readonly _tag: "CancelHistoricalData"; readonly m: typeof CancelHistoricalData.Type }
  | { readonly _tag: "Unsupported"; readonly msgId: number }

const tags: Record<number, Request["_tag"]> = {
  [Req.START_API]: "StartApi",
  [Req.REQ_CURRENT_TIME]: "CurrentTime",
  [Req.REQ_IDS]: "ReqIds",
  [Req.REQ_MANAGED_ACCTS]: "ManagedAccts",
  [Req.SET_SERVER_LOGLEVEL]: "LogLevel",
  [Req.REQ_CONTRACT_DATA]: "ContractData",
  [Req.REQ_HEAD_TIMESTAMP]: "HeadTimestamp",
  [Req.CANCEL_HEAD_TIMESTAMP]: "CancelHeadTimestamp",
  [Req.REQ_HISTORICAL_DATA]: "HistoricalData",
  [Req.CANCEL_HISTORICAL_DATA]: "CancelHistoricalData"
}

/**
 * Decodes one message. Unknown message ids are `Unsupported` (the gateway ignores what it does not
 * serve); a known id with the wrong field count or bad values is an error message.
 */
export const decodeRequest = (fields: ReadonlyArray<string>): Either.Either<Request, string> => {
  const msgId = Number(fields[0])
  if (!/^\d+$/.test(fields[0] ?? "")) return Either.left(`message id ${JSON.stringify(fields[0])} is not a number`)
  const layout = (layouts as unknown as Record<
    number,
    { schema: Schema.Schema<unknown, Record<string, string>>; names: ReadonlyArray<string> }
  >)[msgId]
  if (!layout) return Either.right({ _tag: "Unsupported", msgId })
  const rest = fields.slice(1)
  if (rest.length !== layout.names.length) {
    return Either.left(`message ${msgId} has ${rest.length} fields, expected ${layout.names.length}`)
  }
  const record: Record<string, string> = {}
  layout.names.forEach((n, i) => (record[n] = rest[i]!))
  return Schema.decodeUnknownEither(layout.schema)(record).pipe(
    Either.map((m) => ({ _tag: tags[msgId]!, m }) as Request),
    Either.mapLeft((e) => `message ${msgId}: ${ParseResult.TreeFormatter.formatErrorSync(e)}`)
  )
}
