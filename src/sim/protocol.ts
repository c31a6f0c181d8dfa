/** Message ids and IB message texts the simulated gateway uses (tws-protocol.md §2.3–2.6, §5.2). */

/** Client → gateway. */
export const Req = {
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  SET_SERVER_LOGLEVEL: 14,
  REQ_MANAGED_ACCTS: 17,
  REQ_HISTORICAL_DATA: 20,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  START_API: 71,
  REQ_HEAD_TIMESTAMP: 87,
  CANCEL_HEAD_TIMESTAMP: 90
} as const

/** Gateway → client. */
export const Msg = {
  ERR_MSG: 4,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  MANAGED_ACCTS: 15,
  HISTORICAL_DATA: 17,
  CURRENT_TIME: 49,
  CONTRACT_DATA_END: 52,
  HEAD_TIMESTAMP: 88,
  HISTORICAL_DATA_UPDATE: 90
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
  unsupportedKeepUpToDate: "Error validating request.-'bK' : cause - keepUpToDate requires an empty end date/time"
} as const

const titleCase = (s: string) => s.charAt(0) + s.slice(1).toLowerCase()
