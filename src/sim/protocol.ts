/** Message ids and IB message texts the simulated gateway uses (tws-protocol.md §2.3–2.6, §5.2). */

/** Client → gateway: every request id of the TWS API up to server version 193. */
export const Req = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_ACCOUNT_DATA: 6,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  REQ_MKT_DEPTH: 10,
  CANCEL_MKT_DEPTH: 11,
  REQ_NEWS_BULLETINS: 12,
  CANCEL_NEWS_BULLETINS: 13,
  SET_SERVER_LOGLEVEL: 14,
  REQ_AUTO_OPEN_ORDERS: 15,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCTS: 17,
  REQ_FA: 18,
  REPLACE_FA: 19,
  REQ_HISTORICAL_DATA: 20,
  EXERCISE_OPTIONS: 21,
  REQ_SCANNER_SUBSCRIPTION: 22,
  CANCEL_SCANNER_SUBSCRIPTION: 23,
  REQ_SCANNER_PARAMETERS: 24,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  REQ_REAL_TIME_BARS: 50,
  CANCEL_REAL_TIME_BARS: 51,
  REQ_FUNDAMENTAL_DATA: 52,
  CANCEL_FUNDAMENTAL_DATA: 53,
  REQ_CALC_IMPLIED_VOLAT: 54,
  REQ_CALC_OPTION_PRICE: 55,
  CANCEL_CALC_IMPLIED_VOLAT: 56,
  CANCEL_CALC_OPTION_PRICE: 57,
  REQ_GLOBAL_CANCEL: 58,
  REQ_MARKET_DATA_TYPE: 59,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  VERIFY_REQUEST: 65,
  VERIFY_MESSAGE: 66,
  QUERY_DISPLAY_GROUPS: 67,
  SUBSCRIBE_TO_GROUP_EVENTS: 68,
  UPDATE_DISPLAY_GROUP: 69,
  UNSUBSCRIBE_FROM_GROUP_EVENTS: 70,
  START_API: 71,
  VERIFY_AND_AUTH_REQUEST: 72,
  VERIFY_AND_AUTH_MESSAGE: 73,
  REQ_POSITIONS_MULTI: 74,
  CANCEL_POSITIONS_MULTI: 75,
  REQ_ACCOUNT_UPDATES_MULTI: 76,
  CANCEL_ACCOUNT_UPDATES_MULTI: 77,
  REQ_SEC_DEF_OPT_PARAMS: 78,
  REQ_SOFT_DOLLAR_TIERS: 79,
  REQ_FAMILY_CODES: 80,
  REQ_MATCHING_SYMBOLS: 81,
  REQ_MKT_DEPTH_EXCHANGES: 82,
  REQ_SMART_COMPONENTS: 83,
  REQ_NEWS_ARTICLE: 84,
  REQ_NEWS_PROVIDERS: 85,
  REQ_HISTORICAL_NEWS: 86,
  REQ_HEAD_TIMESTAMP: 87,
  REQ_HISTOGRAM_DATA: 88,
  CANCEL_HISTOGRAM_DATA: 89,
  CANCEL_HEAD_TIMESTAMP: 90,
  REQ_MARKET_RULE: 91,
  REQ_PNL: 92,
  CANCEL_PNL: 93,
  REQ_PNL_SINGLE: 94,
  CANCEL_PNL_SINGLE: 95,
  REQ_HISTORICAL_TICKS: 96,
  REQ_TICK_BY_TICK_DATA: 97,
  CANCEL_TICK_BY_TICK_DATA: 98,
  REQ_COMPLETED_ORDERS: 99,
  REQ_WSH_META_DATA: 100,
  CANCEL_WSH_META_DATA: 101,
  REQ_WSH_EVENT_DATA: 102,
  CANCEL_WSH_EVENT_DATA: 103,
  REQ_USER_INFO: 104
} as const

/** The request's name for logs and `/stats`. */
export const reqName = (msgId: number): string =>
  Object.entries(Req).find(([, id]) => id === msgId)?.[0] ?? `MSG_${msgId}`

/** Gateway → client. */
export const Msg = {
  ERR_MSG: 4,
  ACCT_VALUE: 6,
  ACCT_UPDATE_TIME: 8,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  MANAGED_ACCTS: 15,
  HISTORICAL_DATA: 17,
  CURRENT_TIME: 49,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  ACCT_DOWNLOAD_END: 54,
  EXECUTION_DATA_END: 55,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
  POSITION_MULTI_END: 72,
  ACCOUNT_UPDATE_MULTI: 73,
  ACCOUNT_UPDATE_MULTI_END: 74,
  HEAD_TIMESTAMP: 88,
  HISTORICAL_DATA_UPDATE: 90,
  COMPLETED_ORDERS_END: 102,
  HISTORICAL_SCHEDULE: 106
} as const

export const HMDS = "Historical Market Data Service error message:"

export const LEGAL_BAR_SIZES_TEXT =
  "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, 30 mins, " +
  "1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M"

/** The texts real gateways send, so client-side classification is exercised on realistic input. */
export const Text = {
  farmOk: "Market data farm connection is OK:usfarm",
  hmdsOk: "HMDS data farm connection is OK:ushmds",
  secdefOk: "Sec-def data farm connection is OK:secdefnj",
  hmdsBroken: "HMDS data farm connection is broken:ushmds",
  clientIdInUse: "Unable to connect as the client id is already in use. Retry with a unique client id.",
  connectivityLost: "Connectivity between IB and Trader Workstation has been lost.",
  restoredDataLost: "Connectivity between IB and Trader Workstation has been restored - data lost.",
  restoredDataMaintained: "Connectivity between IB and Trader Workstation has been restored - data maintained.",
  serverBroken: "Connectivity between Trader Workstation and server is broken. It will be restored automatically.",
  noSecurityDefinition: "No security definition has been found for the request",
  hmdsConnected: "Historical Market Data Service query message:HMDS server connection was successful.",
  pacing: `${HMDS}Historical data request pacing violation`,
  tooManyOpen: `${HMDS}Maximum number of simultaneous historical data requests exceeded (50)`,
  noData: (symbol: string, exchange: string, whatToShow: string) =>
    `${HMDS}HMDS query returned no data: ${symbol}@${exchange} ${titleCase(whatToShow)}`,
  noMarketData: (symbol: string, secType: string, exchange: string, barSeconds: number) =>
    `${HMDS}No historical market data for ${symbol}/${secType}@${exchange} Last ${barSeconds}`,
  cancelled: (reqId: number) => `${HMDS}API historical data query cancelled: ${reqId}`,
  noQuery: (reqId: number) => `No historical data query found for ticker id:${reqId}`,
  duplicateTicker: (reqId: number) => `Error processing request.-'bK' : cause - Duplicate ticker id ${reqId}`,
  invalidBarSize: "Error validating request.-'bK' : cause - Historical data bar size setting is invalid. " +
    `Legal ones are: ${LEGAL_BAR_SIZES_TEXT}`,
  invalidDuration: (d: string) =>
    "Error validating request.-'bK' : cause - " +
    `Historical data duration format is invalid: '${d}'. Use <integer> <S|D|W|M|Y>`,
  invalidStep: (d: string, bar: string) =>
    "Error validating request.-'bK' : cause - " +
    `Historical data request for duration '${d}' with bar size '${bar}' is not allowed (invalid step)`,
  invalidWhatToShow: (w: string) =>
    `Error validating request.-'bK' : cause - Historical data query type '${w}' is invalid`,
  invalidFormatDate: (f: string) =>
    `Error validating request.-'bT' : cause - Date formatting selection of ${f} rejected`,
  invalidEndDate: "End Date/Time: The date, time, or time-zone entered is invalid. " +
    "The correct format is yyyymmdd hh:mm:ss xx/xxxx where yyyymmdd and xx/xxxx are optional. " +
    "E.g.: 20031126 15:59:00 US/Eastern  Note that there is a space between the date and time, " +
    "and between the time and time-zone.",
  noTimeZoneWarning: "Warning: You submitted request with date-time attributes without explicit time zone. " +
    "Please switch to use yyyymmdd-hh:mm:ss in UTC or use instrument time zone, like US/Eastern. " +
    "Implied time zone functionality will be removed in the next API release",
  /** What a gateway with "Read-Only API" checked (the simulator is a data-only paper account) says to orders. */
  readOnly: "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode.",
  orderNotFound: (orderId: number) => `OrderId ${orderId} that needs to be cancelled is not found.`,
  unreadable: (detail: string) => `Error reading request.-'sim' : cause - ${detail}`,
  unsupported: (name: string) =>
    `Error validating request.-'sim' : cause - ${name} is not supported by the simulated gateway`,
  unsupportedKeepUpToDate: "Error validating request.-'bK' : cause - keepUpToDate requires an empty end date/time"
} as const

const titleCase = (s: string) => s.charAt(0) + s.slice(1).toLowerCase()
