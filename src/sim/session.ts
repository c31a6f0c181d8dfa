/**
 * One client connection to the simulated gateway: handshake (version negotiation), START_API, then
 * requests, each read and answered in the layout of the negotiated version. A frame that cannot be read
 * gets the gateway's 320 and the session goes on; only a broken stream (bad handshake, absurd frame
 * length) closes it, and only it. Every timer the session starts dies with it.
 */
import type { Socket } from "node:net"
import { Either } from "effect"
import { answeredExchange, findContracts, type ContractQuery } from "./catalog.ts"
import { contractDataFields } from "./contractDetails.ts"
import { handleHistorical } from "./historicalRequest.ts"
import { headTimestampMs } from "./historicalBars.ts"
import type { WhatToShow } from "./instruments.ts"
import { answerAccountRequest } from "./paperAccount.ts"
import { Msg, Text } from "./protocol.ts"
import { decodeRequest, type Request } from "./requests.ts"
import { answerSchedule } from "./schedule.ts"
import { MinVer, MIN_CLIENT_VERSION, negotiate } from "./versions.ts"
import { encodeBody, encodeFrame, InboundDecoder, WireError, type Field } from "./wire.ts"
import { formatLocal, offsetMs } from "./zoneClock.ts"
import { formatIbUtc } from "../domain/IbHistoricalRules.ts"
import type { HistoricalFrame, InFlight, SessionPort, SimContext } from "./sessionPort.ts"

type State = "greeting" | "awaiting-start" | "ready" | "closed"

const EST_OFFSET = -5 * 3_600_000

export class Session implements SessionPort {
  private readonly decoder = new InboundDecoder()
  private state: State = "greeting"
  private readonly timers = new Set<NodeJS.Timeout>()
  readonly inFlight = new Map<number, InFlight>()
  private readonly finished = new Set<number>()
  private readonly heldForHmds: Array<() => void> = []
  clientId: number | undefined
  /** The negotiated server version; every frame in and out is laid out for it. */
  version = 0
  private nextOrderId = 1

  constructor(
    readonly id: number,
    private readonly ctx: SimContext<Session>,
    private readonly socket: Socket
  ) {
    socket.setNoDelay(true)
    socket.on("data", (chunk) => this.onData(chunk))
    socket.on("error", () => this.close())
    socket.on("close", () => this.close())
  }

  get isReady(): boolean {
    return this.state === "ready"
  }

  private onData(chunk: Buffer): void {
    if (this.state === "closed") return
    let messages
    try {
      messages = this.decoder.push(chunk)
    } catch (e) {
      this.ctx.log(`session ${this.id}: closing on malformed input: ${e instanceof WireError ? e.message : String(e)}`)
      return this.close()
    }
    for (const m of messages) {
      if ((this.state as State) === "closed") return
      if (m._tag === "Hello") this.onHello(m.minVersion, m.maxVersion)
      else if (m._tag === "Unreadable") this.unreadable(m.reason)
      else {
        const req = decodeRequest(m.fields, this.version)
        if (Either.isLeft(req)) {
          this.unreadable(req.left)
          continue
        }
        try {
          this.onRequest(req.right)
        } catch (e) {
          // A request the simulator cannot serve must cost that session, never the gateway.
          this.ctx.log(`session ${this.id}: closing after internal error: ${e instanceof Error ? e.stack : String(e)}`)
          return this.close()
        }
      }
    }
  }

  /** What TWS does with a request it cannot read: error 320, and the connection stays. */
  private unreadable(detail: string): void {
    this.ctx.counters.unreadable++
    this.ctx.log(`session ${this.id}: unreadable request: ${detail}`)
    if (this.state === "ready" || this.state === "awaiting-start") this.sendError(-1, 320, Text.unreadable(detail))
  }

  private onHello(min: number, max: number): void {
    const simMax = this.ctx.serverVersion()
    const v = negotiate(min, max, simMax)
    if (v === undefined) {
      const why = max < MIN_CLIENT_VERSION
        ? `below v${MIN_CLIENT_VERSION}`
        : `outside v${MIN_CLIENT_VERSION}..${simMax}`
      this.ctx.log(`session ${this.id}: client range v${min}..${max} is ${why}; closing`)
      return this.close()
    }
    this.version = v
    this.state = "awaiting-start"
    if (this.ctx.faults.silentHandshake) return
    const now = this.ctx.now()
    const zone = offsetMs("America/New_York", now) === EST_OFFSET ? "EST" : "EDT"
    this.send([v, `${formatLocal(now, "America/New_York")} ${zone}`])
  }

  private onRequest(req: Request): void {
    if (this.state === "awaiting-start") {
      if (req._tag === "StartApi") this.onStartApi(req.m.clientId)
      else this.ctx.counters.unanswered++ // a real gateway ignores requests before START_API
      return
    }
    if (this.state !== "ready" || req._tag === "StartApi") return
    this.countRequest(req)
    if (this.ctx.faults.stall) {
      this.ctx.counters.stalled++
      return
    }
    const delay = this.ctx.latencyFor(0)
    switch (req._tag) {
      case "CurrentTime":
        return void this.later(delay, () => this.send([Msg.CURRENT_TIME, 1, Math.floor(this.ctx.now() / 1000)]))
      case "ReqIds":
        return void this.later(delay, () => this.reqIds(req.m.numIds))
      case "ManagedAccts":
        return void this.later(delay, () => this.send([Msg.MANAGED_ACCTS, 1, this.ctx.account]))
      case "ContractData":
        return void this.later(delay, () => this.contractData(req.m.reqId, req.m))
      case "HeadTimestamp":
        return void this.later(delay, () => this.headTimestamp(req.m))
      case "CancelHeadTimestamp":
        return // IBApiNext cancels every finished head-timestamp request; nothing to do
      case "HistoricalData":
        if (req.m.whatToShow === "SCHEDULE" && this.version >= MinVer.HISTORICAL_SCHEDULE) {
          return void this.later(delay, () => answerSchedule(this, this.ctx, req.m))
        }
        return handleHistorical(this, this.ctx, req.m)
      case "CancelHistoricalData":
        return this.cancelHistorical(req.m.reqId)
      case "LogLevel":
      case "MarketDataType":
        return // settings: the protocol has no answer for them
      case "Unsupported":
        this.ctx.counters.unsupported[req.name] = (this.ctx.counters.unsupported[req.name] ?? 0) + 1
        return void this.later(delay, () => this.sendError(req.reqId, 321, Text.unsupported(req.name)))
      default:
        return void this.later(delay, () => {
          if (!answerAccountRequest(this, this.ctx, req)) this.sendError(-1, 321, Text.unsupported(req._tag))
        })
    }
  }

  /** Ids only grow: each NEXT_VALID_ID (the login's too) is the next free id, and the ids it covers are used up. */
  private reqIds(numIds: number): void {
    this.send([Msg.NEXT_VALID_ID, 1, this.nextOrderId])
    this.nextOrderId += Math.max(1, numIds)
  }

  private countRequest(req: Request): void {
    const c = this.ctx.counters
    c.total++
    const name = req._tag === "Unsupported" ? req.name : req._tag
    c.byType[name] = (c.byType[name] ?? 0) + 1
    if (req._tag === "HistoricalData") {
      c.historical++
      this.ctx.onHistoricalRequest(this, req.m)
    } else if (req._tag === "ContractData") c.contractDetails++
    else if (req._tag === "HeadTimestamp") c.headTimestamp++
    else if (req._tag === "CurrentTime") c.currentTime++
    else if (req._tag === "CancelHistoricalData") c.historicalCancels++
  }

  /** Real gateway order: MANAGED_ACCTS, NEXT_VALID_ID, then the farm-status notices (tws-protocol.md §1.4). */
  private onStartApi(clientId: number): void {
    if (!this.ctx.claimClientId(clientId, this)) {
      this.ctx.counters.clientIdRefusals++
      this.sendError(-1, 326, Text.clientIdInUse)
      return this.close()
    }
    this.clientId = clientId
    this.state = "ready"
    this.ctx.onLoggedIn(this)
    this.send([Msg.MANAGED_ACCTS, 1, this.ctx.account])
    if (this.ctx.faults.withholdNextValidId) return
    this.reqIds(1)
    this.sendError(-1, 2104, Text.farmOk)
    this.sendError(
      -1,
      this.ctx.faults.hmdsBroken ? 2105 : 2106,
      this.ctx.faults.hmdsBroken ? Text.hmdsBroken : Text.hmdsOk
    )
    this.sendError(-1, 2158, Text.secdefOk)
  }

  private contractData(reqId: number, q: ContractQuery): void {
    const now = this.ctx.now()
    const matches = findContracts(q, now)
    if (matches.length === 0) return this.sendError(reqId, 200, Text.noSecurityDefinition)
    for (const inst of matches) {
      this.send(contractDataFields(reqId, inst, answeredExchange(inst, q.exchange), now, this.version))
    }
    this.send([Msg.CONTRACT_DATA_END, 1, reqId])
  }

  private headTimestamp(
    m: ContractQuery & { reqId: number; useRTH: boolean; whatToShow: string; formatDate: number }
  ): void {
    const matches = findContracts(m, this.ctx.now())
    const inst = matches[0]
    if (!inst || matches.length > 1) return this.sendError(m.reqId, 200, Text.noSecurityDefinition)
    if (!inst.whatToShow.includes(m.whatToShow as WhatToShow)) {
      return this.sendError(m.reqId, 162, Text.noMarketData(inst.localSymbol, inst.secType, inst.exchange, 0))
    }
    if (m.formatDate !== 1 && m.formatDate !== 2) {
      return this.sendError(m.reqId, 321, Text.invalidFormatDate(String(m.formatDate)))
    }
    const ts = headTimestampMs(inst, m.useRTH)
    // On a simulated clock before the listing there is no data yet.
    if (ts > this.ctx.now()) return this.sendError(m.reqId, 162, Text.noData(inst.symbol, inst.exchange, m.whatToShow))
    this.send([Msg.HEAD_TIMESTAMP, m.reqId, m.formatDate === 2 ? String(Math.floor(ts / 1000)) : formatIbUtc(ts)])
  }

  private cancelHistorical(reqId: number): void {
    const f = this.inFlight.get(reqId)
    if (f) {
      this.clearInFlight(reqId)
      // Only a query still running is answered with 162 "cancelled"; a stream simply stops.
      if (!f.interval) this.sendError(reqId, 162, Text.cancelled(reqId))
      return
    }
    if (!this.finished.has(reqId)) this.sendError(reqId, 366, Text.noQuery(reqId))
  }

  clearInFlight(reqId: number): void {
    const f = this.inFlight.get(reqId)
    if (!f) return
    if (f.timer) this.clearTimer(f.timer)
    if (f.interval) clearInterval(f.interval)
    this.inFlight.delete(reqId)
  }

  markFinished(reqId: number): void {
    this.finished.add(reqId)
    if (this.finished.size > 10_000) this.finished.clear()
  }

  /** Runs `fn` after `ms` (or now when 0), unless the session closes first. */
  later(ms: number, fn: () => void): NodeJS.Timeout | undefined {
    if (ms <= 0) {
      fn()
      return undefined
    }
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.state !== "closed") fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  clearTimer(t: NodeJS.Timeout): void {
    clearTimeout(t)
    this.timers.delete(t)
  }

  /** While the HMDS farm is broken, historical answers wait for it. */
  whenHmdsUp(fn: () => void): void {
    if (this.ctx.faults.hmdsBroken) this.heldForHmds.push(fn)
    else fn()
  }

  hmdsRestored(): void {
    for (const fn of this.heldForHmds.splice(0)) if (this.state !== "closed") fn()
  }

  send(fields: ReadonlyArray<Field>): void {
    this.write(encodeFrame(fields))
  }

  /** ERR_MSG: `4, 2, id, code, message`, plus `advancedOrderRejectJson` from v166. */
  sendError(id: number, code: number, message: string): void {
    if (code < 2100 || code >= 10000) this.ctx.counters.errorsSent++
    if (this.version >= MinVer.ADVANCED_ORDER_REJECT) this.send([Msg.ERR_MSG, 2, id, code, message, ""])
    else this.send([Msg.ERR_MSG, 2, id, code, message])
  }

  /** Writes the first half of a frame and drops the connection: a gateway dying mid-answer. */
  sendTruncated(body: string): void {
    const frame = encodeBody(body)
    this.socket.write(frame.subarray(0, Math.max(5, frame.length >> 1)))
    this.close()
  }

  sendBars(frame: HistoricalFrame): void {
    this.ctx.counters.barsSent += frame.count
    this.write(encodeBody(frame.body))
  }

  private write(frame: Buffer): void {
    if (this.state === "closed") return
    this.socket.write(frame)
    const f = this.ctx.faults
    if (f.closeAfterMessages !== null) {
      f.closeAfterMessages -= 1
      if (f.closeAfterMessages <= 0) {
        f.closeAfterMessages = null
        this.close()
      }
    }
  }

  close(): void {
    if (this.state === "closed") return
    this.state = "closed"
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const f of this.inFlight.values()) if (f.interval) clearInterval(f.interval)
    this.inFlight.clear()
    this.heldForHmds.length = 0
    if (this.clientId !== undefined) this.ctx.releaseClientId(this.clientId, this)
    this.socket.destroy()
    this.ctx.onClosed(this)
  }
}
