/**
 * Wire schemas of the IB host endpoints (/api/v1/ib/historical, /head-timestamp, /contract,
 * /current-time): what another process's RemoteIb sends and receives. Field names are IbClient's own
 * (camelCase): these endpoints are ours, not KTRDR's. Every field is bounded or an enum, so a bad
 * request is a 400 naming the field before anything reaches the gateway. IB failures travel as the
 * envelope's `details` ({ib_code, req_id, category, retryable}) so the caller rebuilds the exact IbError.
 */
import { Schema } from "effect"
import { IbError, IbErrorCategorySchema } from "../domain/errors.ts"
import { parseBarSize, parseDuration } from "../domain/IbHistoricalRules.ts"
import { BoolParam } from "./api/data.ts"

/**
 * IB identifiers (symbols such as `BRK B`, local symbols such as `EUR.USD`, exchanges): no control or
 * path characters. Empty is allowed: IB reads "" as "any" (SymbolCatalog's index lookups send it).
 */
const Token = (max: number) => Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9 ._&^+-]*$/), Schema.maxLength(max))

export const SecTypeWire = Schema.Literal("STK", "CASH", "FUT", "IND", "CONTFUT")
export const WhatToShowWire = Schema.Literal("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST")

/** Epoch ms between 1900 and 2100: wide enough for any bar IB has, narrow enough to catch seconds-for-ms mistakes. */
export const EpochMs = Schema.Int.pipe(Schema.between(-2_208_988_800_000, 4_102_444_800_000))

/** Absent, never `undefined`: the decoded value is IbClient's ContractSpec as is. */
const exact = <S extends Schema.Schema.Any>(s: S) => Schema.optionalWith(s, { exact: true })

const contractFields = {
  conId: exact(Schema.Int.pipe(Schema.between(1, 2_147_483_647))),
  symbol: exact(Token(32)),
  secType: exact(SecTypeWire),
  exchange: exact(Token(32)),
  primaryExch: exact(Token(32)),
  currency: exact(Schema.String.pipe(Schema.pattern(/^([A-Z]{3})?$/))),
  localSymbol: exact(Token(32)),
  lastTradeDateOrContractMonth: exact(Schema.String.pipe(Schema.pattern(/^\d{6}(\d{2})?$/))),
  includeExpired: exact(Schema.Boolean)
}

const identified = (
  c: {
    readonly conId?: number | undefined
    readonly symbol?: string | undefined
    readonly localSymbol?: string | undefined
  }
) =>
  c.conId !== undefined || (c.symbol ?? "") !== "" || (c.localSymbol ?? "") !== "" ||
  "a contract needs conId, symbol or localSymbol"

/** IbClient's ContractSpec. */
export const ContractSpecWire = Schema.Struct(contractFields).pipe(Schema.filter(identified))

export const IbDuration = Schema.String.pipe(
  Schema.maxLength(16),
  Schema.filter((s) =>
    parseDuration(s) !== undefined || `expected an IB duration such as "1 D" or "3600 S", got ${JSON.stringify(s)}`
  )
)

export const IbBarSize = Schema.String.pipe(
  Schema.maxLength(16),
  Schema.filter((s) =>
    parseBarSize(s) !== undefined || `expected an IB bar size such as "1 min" or "1 hour", got ${JSON.stringify(s)}`
  )
)

/** An IANA or IB zone name (`America/New_York`, `US/Eastern`, `UTC`). */
export const ZoneName = Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/))

/** IbClient's HistoricalRequest. */
export const HistoricalRequestWire = Schema.Struct({
  contract: ContractSpecWire,
  end: Schema.Union(Schema.Literal("now"), EpochMs),
  duration: IbDuration,
  barSize: IbBarSize,
  whatToShow: WhatToShowWire,
  useRTH: Schema.Boolean,
  timeZone: exact(ZoneName)
})

/** Head-timestamp query: the contract's fields flattened into URL parameters, plus whatToShow and useRTH. */
export const HeadTimestampParams = Schema.Struct({
  ...contractFields,
  conId: exact(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 2_147_483_647))),
  includeExpired: exact(BoolParam),
  whatToShow: WhatToShowWire,
  useRTH: BoolParam
}).pipe(Schema.filter(identified))

const Price = Schema.Number.pipe(Schema.finite())

export const BarWire = Schema.Struct({
  time: EpochMs,
  open: Price,
  high: Price,
  low: Price,
  close: Price,
  volume: Schema.NullOr(Price),
  wap: Schema.NullOr(Price),
  count: Schema.NullOr(Price)
})

export const BarsWire = Schema.Struct({ bars: Schema.Array(BarWire) })

/** IbClient's ContractInfo. */
export const ContractInfoWire = Schema.Struct({
  conId: Schema.Int,
  symbol: Schema.String,
  secType: Schema.String,
  exchange: Schema.String,
  primaryExch: Schema.String,
  currency: Schema.String,
  localSymbol: Schema.String,
  tradingClass: Schema.String,
  longName: Schema.String,
  minTick: Schema.Number,
  multiplier: Schema.String,
  timeZoneId: Schema.String,
  tradingHours: Schema.String,
  liquidHours: Schema.String,
  validExchanges: Schema.String,
  lastTradeDate: Schema.String,
  realExpirationDate: Schema.String,
  contractMonth: Schema.String
})

export const ContractsWire = Schema.Struct({ contracts: Schema.Array(ContractInfoWire) })
export const HeadTimestampWire = Schema.Struct({ timestamp: Schema.Int })
/** Gateway time, epoch seconds. */
export const CurrentTimeWire = Schema.Struct({ time: Schema.Int })

/** What `toApiError` puts in an envelope's details. `category`/`retryable` are absent in UnknownSymbol's details. */
export const IbErrorDetails = Schema.Struct({
  ib_code: Schema.Int,
  req_id: Schema.Int,
  category: Schema.optional(IbErrorCategorySchema),
  retryable: Schema.optional(Schema.Boolean)
})

const decodeDetails = Schema.decodeUnknownOption(IbErrorDetails)

/**
 * The IbError an envelope error carries, when its details have the IB fields: the same code, request id,
 * message, category and retryability as on the host (the category is re-derived from the code when the
 * details lack it). undefined for errors that did not come from IB.
 */
export const ibErrorFromEnvelope = (
  e: { readonly message: string; readonly details?: unknown }
): IbError | undefined => {
  const d = decodeDetails(e.details)
  if (d._tag === "None") return undefined
  const { ib_code, req_id, category, retryable } = d.value
  if (category === undefined || retryable === undefined) return IbError.fromIb(ib_code, req_id, e.message)
  return new IbError({ code: ib_code, reqId: req_id, message: e.message, category, retryable })
}
