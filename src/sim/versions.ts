/**
 * Server versions the simulated gateway can stand in for, and the thresholds at which the wire layout of
 * the messages it reads and writes changes. The numbers are IB's `MIN_SERVER_VER_*` constants (the same in
 * IB's Java/C#/Python clients, @stoqey/ib's `min-server-version` and ib_async); only the ones that change a
 * message this simulator handles are named here.
 */

/** The newest layout this simulator writes: @stoqey/ib 1.6.10's maximum (CME_TAGGING_FIELDS_IN_OPEN_ORDER). */
export const SIM_MAX_VERSION = 193
/** The oldest handshake a v100+ client may offer; anything below is the pre-v100 protocol, not spoken here. */
export const MIN_CLIENT_VERSION = 100

export const MinVer = {
  /** REQ_CONTRACT_DATA gains tradingClass; REQ_HISTORICAL_DATA gains conId and tradingClass. */
  TRADING_CLASS: 68,
  /** REQ_HISTORICAL_DATA gains chartOptions. */
  LINKING: 70,
  /** CONTRACT_DATA carries mdSizeMultiplier (until SIZE_RULES). */
  MD_SIZE_MULTIPLIER: 110,
  REQ_HEAD_TIMESTAMP: 118,
  /** CONTRACT_DATA gains aggGroup. */
  AGG_GROUP: 121,
  /** CONTRACT_DATA gains underSymbol and underSecType. */
  UNDERLYING_INFO: 122,
  CANCEL_HEADTIMESTAMP: 123,
  /** REQ_HISTORICAL_DATA loses its version field and gains keepUpToDate; HISTORICAL_DATA loses version and hasGaps. */
  SYNT_REALTIME_BARS: 124,
  /** CONTRACT_DATA gains marketRuleIds. */
  MARKET_RULES: 126,
  /** CONTRACT_DATA gains realExpirationDate. */
  REAL_EXPIRATION_DATE: 134,
  /** PLACE_ORDER loses its version field. */
  ORDER_CONTAINER: 145,
  REQ_COMPLETED_ORDERS: 150,
  /** CONTRACT_DATA gains stockType. */
  STOCK_TYPE: 152,
  /** CONTRACT_DATA carries sizeMinTick (one version only, replaced by SIZE_RULES). */
  FRACTIONAL_SIZE_SUPPORT: 163,
  /** CONTRACT_DATA loses its version field and gains minSize, sizeIncrement, suggestedSizeIncrement. */
  SIZE_RULES: 164,
  /** whatToShow=SCHEDULE and the HISTORICAL_SCHEDULE message. */
  HISTORICAL_SCHEDULE: 165,
  /** ERR_MSG gains advancedOrderRejectJson. */
  ADVANCED_ORDER_REJECT: 166,
  /** CANCEL_ORDER gains manualOrderCancelTime. */
  MANUAL_ORDER_TIME: 169,
  /** REQ_CONTRACT_DATA gains issuerId. */
  BOND_ISSUERID: 176,
  /** CONTRACT_DATA gains lastTradeDate. */
  LAST_TRADE_DATE: 182,
  /** CONTRACT_DATA gains the ineligibility-reason list. */
  INELIGIBILITY_REASONS: 186,
  /** CANCEL_ORDER and REQ_GLOBAL_CANCEL lose their version field and gain extOperator, manualOrderIndicator. */
  CME_TAGGING_FIELDS: 192
} as const

/**
 * A gateway answers with the highest version both sides speak: min(client max, its own max), provided that
 * is still within the client's range. `undefined` when the ranges do not overlap.
 */
export const negotiate = (clientMin: number, clientMax: number, serverMax: number): number | undefined => {
  const v = Math.min(clientMax, serverMax)
  return v >= clientMin && v >= MIN_CLIENT_VERSION ? v : undefined
}
