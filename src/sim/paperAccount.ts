/**
 * The account side of the simulated gateway: a paper account with cash and no positions, orders or
 * executions, and a read-only API (orders are refused the way IB Gateway refuses them with "Read-Only API"
 * checked). Every request of this family gets the answer and end marker a real gateway sends for such an
 * account, so client libraries that ask for them at startup finish connecting at once.
 */
import { Msg, Text } from "./protocol.ts"
import type { Request } from "./requests.ts"
import type { SessionPort, SimContext } from "./sessionPort.ts"

/** One million USD of cash, nothing invested: the values `reqAccountUpdates` and the summary report. */
const CASH = "1000000.00"
export const accountValues: ReadonlyArray<readonly [key: string, value: string, currency: string]> = [
  ["AccountCode", "", ""],
  ["AccountType", "INDIVIDUAL", ""],
  ["Currency", "USD", "USD"],
  ["CashBalance", CASH, "USD"],
  ["TotalCashValue", CASH, "USD"],
  ["SettledCash", CASH, "USD"],
  ["NetLiquidation", CASH, "USD"],
  ["EquityWithLoanValue", CASH, "USD"],
  ["GrossPositionValue", "0.00", "USD"],
  ["AvailableFunds", CASH, "USD"],
  ["ExcessLiquidity", CASH, "USD"],
  ["BuyingPower", "4000000.00", "USD"],
  ["InitMarginReq", "0.00", "USD"],
  ["MaintMarginReq", "0.00", "USD"],
  ["UnrealizedPnL", "0.00", "USD"],
  ["RealizedPnL", "0.00", "USD"]
]

/** The summary tags a client may name (reqAccountSummary's `tags`); "All" means every one. */
const summaryTags: ReadonlyArray<string> = [
  "AccountType",
  "NetLiquidation",
  "TotalCashValue",
  "SettledCash",
  "BuyingPower",
  "EquityWithLoanValue",
  "GrossPositionValue",
  "InitMarginReq",
  "MaintMarginReq",
  "AvailableFunds",
  "ExcessLiquidity"
]

const valueOf = (key: string) => accountValues.find(([k]) => k === key)

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16)

/** Answers `req` if it belongs to the account and order family; false when it does not. */
export const answerAccountRequest = (s: SessionPort, ctx: SimContext, req: Request): boolean => {
  const account = ctx.account
  switch (req._tag) {
    case "Positions":
      return s.send([Msg.POSITION_END, 1]), true
    case "PositionsMulti":
      return s.send([Msg.POSITION_MULTI_END, 1, req.m.reqId]), true
    case "OpenOrders":
    case "AllOpenOrders":
    case "AutoOpenOrders":
      return s.send([Msg.OPEN_ORDER_END, 1]), true
    case "CompletedOrders":
      return s.send([Msg.COMPLETED_ORDERS_END]), true
    case "Executions":
      return s.send([Msg.EXECUTION_DATA_END, 1, req.m.reqId]), true
    case "AccountData":
      // Unsubscribing has no answer in the protocol.
      if (!req.m.subscribe) return true
      for (const [k, v, c] of accountValues) {
        s.send([Msg.ACCT_VALUE, 2, k, k === "AccountCode" ? account : v, c, account])
      }
      s.send([Msg.ACCT_UPDATE_TIME, 1, hhmm(ctx.now())])
      return s.send([Msg.ACCT_DOWNLOAD_END, 1, account]), true
    case "AccountUpdatesMulti":
      for (const [k, v, c] of accountValues) {
        const value = k === "AccountCode" ? account : v
        s.send([Msg.ACCOUNT_UPDATE_MULTI, 1, req.m.reqId, account, req.m.modelCode, k, value, c])
      }
      return s.send([Msg.ACCOUNT_UPDATE_MULTI_END, 1, req.m.reqId]), true
    case "AccountSummary": {
      const asked = req.m.tags.split(",").map((t) => t.trim())
      const tags = asked.includes("All") ? summaryTags : summaryTags.filter((t) => asked.includes(t))
      for (const tag of tags) {
        const [, value, currency] = valueOf(tag)!
        s.send([Msg.ACCOUNT_SUMMARY, 1, req.m.reqId, account, tag, value, currency])
      }
      return s.send([Msg.ACCOUNT_SUMMARY_END, 1, req.m.reqId]), true
    }
    case "PlaceOrder":
      return s.sendError(req.m.orderId, 321, Text.readOnly), true
    case "ExerciseOptions":
      return s.sendError(req.m.reqId, 321, Text.readOnly), true
    case "CancelOrder":
      return s.sendError(req.m.orderId, 10147, Text.orderNotFound(req.m.orderId)), true
    // Cancels and settings: the protocol defines no answer, and there is nothing to cancel.
    case "CancelPositions":
    case "CancelPositionsMulti":
    case "CancelAccountSummary":
    case "CancelAccountUpdatesMulti":
    case "GlobalCancel":
      return true
    default:
      return false
  }
}
