/**
 * One client connection to the simulated gateway: handshake, START_API, then requests. A malformed
 * frame closes this session only; every timer the session starts dies with it.
 */
import type { Socket } from "node:net"
import { Either } from "effect"
import { answeredExchange, findContracts, type ContractQuery } from "./catalog.ts"
import { contractDataFields } from "./contractDetails.ts"
import { handleHistorical } from "./historicalRequest.ts"
import { headTimestampMs } from "./historicalBars.ts"
import type { WhatToShow } from "./instruments.ts"
import { Msg, Text } from "./protocol.ts"
import { decodeRequest, type Request } from "./requests.ts"
import { encodeBody, encodeFrame, InboundDecoder, SERVER_VERSION, WireError, type Field } from "./wire.ts"
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
  serverInfoSent = false

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
      else {
        const req = decodeRequest(m.fields)
        if (Either.isLeft(req)) {
          this.ctx.log(`session ${this.id}: closing on malformed message: ${req.left}`)
          return this.close()
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

  private onHello(min: number, max: number): void {
    if (SERVER_VERSION < min || SERVER_VERSION > max) {
      this.ctx.log(`session ${this.id}: client range v${min}..${max} excludes ${SERVER_VERSION}; closing`)
      return this.close()
    }
    this.state = "awaiting-start"
    if (this.ctx.faults.silentHandshake) return
    const now = this.ctx.now()
    const zone = offsetMs("America/New_York", now) === EST_OFFSET ? "EST" : "EDT"
    this.send([SERVER_VERSION, `${formatLocal(now, "America/New_York")} ${zone}`])
  }

  private onRequest(req: Request): void {
    if (this.state === "awaiting-start") {
      if (req._tag === "StartApi") this.onStartApi(req.m.clientId)
      return // a real gateway ignores requests before START_API
    }
    if (this.state !== "ready" || req._tag === "StartApi") return
    this.countRequest(req)
    if (this.ctx.faults.stall) return
    const delay = this.ctx.latencyFor(0)
    switch (req._tag) {
      case "CurrentTime":
        return void this.later(delay, () => this.send([Msg.CURRENT_TIME, 1, Math.floor(this.ctx.now() / 1000)]))
      case "ReqIds":
        return void this.later(delay, () => this.send([Msg.NEXT_VALID_ID, 1, 1]))
      case "ManagedAccts":
        return void this.later(delay, () => this.send([Msg.MANAGED_ACCTS, 1, this.ctx.account]))
      case "ContractData":
        return void this.later(delay, () => this.contractData(req.m.reqId, req.m))
      case "HeadTimestamp":
        return void this.later(delay, () => this.headTimestamp(req.m))
      case "CancelHeadTimestamp":
        return // IBApiNext cancels every finished head-timestamp request; nothing to do
      case "HistoricalData":
        return handleHistorical(this, this.ctx, req.m)
      case "CancelHistoricalData":
        return this.cancelHistorical(req.m.reqId)
      case "LogLevel":
      case "Unsupported":
        return
    }
  }

  private countRequest(req: Request): void {
    const c = this.ctx.counters
    if (req._tag === "HistoricalData") c.historical++
    else if (req._tag === "ContractData") c.contractDetails++
    else if (req._tag === "HeadTimestamp") c.headTimestamp++
    else if (req._tag === "CurrentTime") c.currentTime++
    else if (req._tag === "CancelHistoricalData") c.historicalCancels++
  }

  /** Real gateway order: MANAGED_ACCTS, NEXT_VALID_ID, then the farm-status notices (tws-protocol.md §1.4). */
  private onStartApi(clientId: number): void {
    if (!this.ctx.claimClientId(clientId, this)) {
      this.sendError(-1, 326, Text.clientIdInUse)
      return this.close()
    }
    this.clientId = clientId
    this.state = "ready"
    this.send([Msg.MANAGED_ACCTS, 1, this.ctx.account])
    if (this.ctx.faults.withholdNextValidId) return
    this.send([Msg.NEXT_VALID_ID, 1, 1])
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
    for (const inst of matches) this.send(contractDataFields(reqId, inst, answeredExchange(inst, q.exchange), now))
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

  /** ERR_MSG at version 193: `4, 2, id, code, message, advancedOrderRejectJson`. */
  sendError(id: number, code: number, message: string): void {
    if (code < 2100 || code >= 10000) this.ctx.counters.errorsSent++
    this.send([Msg.ERR_MSG, 2, id, code, message, ""])
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
