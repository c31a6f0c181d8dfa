/**
 * The simulated IB Gateway: a TCP listener on loopback speaking the TWS API at any server version from 100
 * to 193 (each client gets min(its max, `serverVersion`)), with pacing, latency, a simulated clock and
 * fault switches. This class is the in-process API tests drive; `Simulator.ts` wraps it in a scoped
 * Layer and `controlApi.ts` exposes the same controls over HTTP.
 */
import { createServer, type Server, type Socket } from "node:net"
import { findContracts } from "./catalog.ts"
import { noFaults, type FaultsPatch, type FaultState } from "./faults.ts"
import { Pacing, type PacingMode } from "./pacing.ts"
import { Text } from "./protocol.ts"
import { RequestLog, type RequestLogSnapshot } from "./requestLog.ts"
import { Session } from "./session.ts"
import type { SimContext, SimCounters } from "./sessionPort.ts"
import { MIN_CLIENT_VERSION, SIM_MAX_VERSION } from "./versions.ts"

export interface SimulatorOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number
  readonly host?: string
  readonly pacing?: PacingMode
  /** Shrinks every pacing window and every simulated latency by this factor. */
  readonly timeScale?: number
  /** Base latency of every answer, ms (before time scaling). */
  readonly latencyMs?: number
  /** Extra latency per bar in a historical answer, microseconds (before time scaling). */
  readonly perBarUs?: number
  readonly account?: string
  /** The highest server version to speak, 100–193 (default 193): stands in for an older gateway. */
  readonly serverVersion?: number
  /** The gateway's clock; tests may pin it. Wins over `clockStart`. */
  readonly clock?: () => number
  /** A simulated clock: epoch ms at which it starts (when the simulator starts)… */
  readonly clockStart?: number
  /** …and how many simulated ms pass per real ms (default 1). */
  readonly clockSpeed?: number
  readonly log?: (line: string) => void
}

export interface SimulatorStats {
  readonly serverVersion: number
  readonly openConnections: number
  readonly totalConnections: number
  readonly clientIds: ReadonlyArray<number>
  readonly requests: {
    readonly historical: number
    readonly contractDetails: number
    readonly headTimestamp: number
    readonly currentTime: number
    /** Every request read after START_API. */
    readonly total: number
    /** By kind: the decoder's tag (ReqIds, Positions, AccountSummary, …) or IB's name for unsupported ones. */
    readonly byType: Readonly<Record<string, number>>
  }
  /** Requests refused as not supported (each got error 321), by IB's request name, and their total. */
  readonly unsupported: Readonly<Record<string, number>>
  readonly unsupportedTotal: number
  /** Requests that got nothing although the protocol answers them (sent before START_API). */
  readonly unanswered: number
  /** Requests swallowed by the `stall` fault. */
  readonly stalled: number
  /** Frames that could not be read (each got error 320; the session stayed up). */
  readonly unreadable: number
  readonly historicalCancels: number
  readonly openHistorical: number
  readonly pacingViolations: number
  readonly errorsSent: number
  readonly barsSent: number
  /** Logins refused with 326 "client id already in use". */
  readonly clientIdRefusals: number
  /**
   * The most logged-in sessions ever open at once under one client id (since start or reset), counted over the
   * open sessions themselves, not the client-id registry: with the 326 rule it stays at most 1.
   */
  readonly maxSessionsPerClientId: number
}

const zeroCounters = (): SimCounters => ({
  total: 0,
  byType: {},
  unsupported: {},
  unanswered: 0,
  stalled: 0,
  unreadable: 0,
  historical: 0,
  contractDetails: 0,
  headTimestamp: 0,
  currentTime: 0,
  historicalCancels: 0,
  pacingViolations: 0,
  errorsSent: 0,
  barsSent: 0,
  clientIdRefusals: 0
})

export class GatewaySimulator {
  private server: Server
  private readonly sessions = new Set<Session>()
  private readonly clientIds = new Map<number, Session>()
  private readonly restoreTimers = new Set<NodeJS.Timeout>()
  private counters = zeroCounters()
  private readonly requestLog = new RequestLog()
  private maxSessionsPerClientId = 0
  private totalConnections = 0
  private nextSessionId = 1
  private listening = false
  private boundPort = 0
  readonly faults: FaultState = noFaults()
  readonly pacing: Pacing
  private readonly ctx: SimContext<Session>
  private pacingMode: PacingMode
  private timeScale: number
  private latencyMs: number
  private perBarUs: number
  private serverVersion: number

  private constructor(private readonly options: SimulatorOptions) {
    this.pacingMode = options.pacing ?? "strict"
    this.timeScale = options.timeScale ?? 1
    this.latencyMs = options.latencyMs ?? 0
    this.perBarUs = options.perBarUs ?? 0
    this.serverVersion = checkVersion(options.serverVersion ?? SIM_MAX_VERSION)
    this.pacing = new Pacing(this.pacingMode, this.timeScale)
    this.server = this.makeServer()
    // A getter, because a reset replaces the counters object; read through a closure, not an alias of `this`.
    const counters = () => this.counters
    this.ctx = {
      now: options.clock ?? simulatedClock(options.clockStart, options.clockSpeed ?? 1),
      faults: this.faults,
      pacing: this.pacing,
      get counters() {
        return counters()
      },
      account: options.account ?? "DU1234567",
      timeScale: () => this.timeScale,
      serverVersion: () => this.serverVersion,
      latencyFor: (bars) => (this.latencyMs + (bars * this.perBarUs) / 1000) / this.timeScale,
      claimClientId: (id, s) => {
        const holder = this.clientIds.get(id)
        if (holder && holder !== s && !this.faults.acceptDuplicateClientIds) return false
        this.clientIds.set(id, s)
        return true
      },
      releaseClientId: (id, s) => {
        if (this.clientIds.get(id) === s) this.clientIds.delete(id)
      },
      onLoggedIn: (s) => {
        this.maxSessionsPerClientId = Math.max(this.maxSessionsPerClientId, this.sessionsOf(s.clientId))
      },
      onHistoricalRequest: (s, m) => {
        const found = m.conId === 0 && m.exchange === "" ? [] : findContracts(m, this.ctx.now())
        this.requestLog.add({
          sessionId: s.id,
          clientId: s.clientId ?? -1,
          conId: m.conId,
          symbol: m.symbol,
          secType: m.secType,
          exchange: m.exchange,
          currency: m.currency,
          localSymbol: m.localSymbol,
          resolved: found.length === 1 ? found[0]!.localSymbol : null,
          endDateTime: m.endDateTime,
          duration: m.duration,
          barSize: m.barSize,
          whatToShow: m.whatToShow,
          useRTH: m.useRTH,
          receivedAtMs: Date.now()
        })
      },
      openHistorical: () => {
        let n = 0
        for (const s of this.sessions) n += s.inFlight.size
        return n
      },
      log: options.log ?? (() => {}),
      onClosed: (s) => this.sessions.delete(s)
    }
  }

  static async start(options: SimulatorOptions = {}): Promise<GatewaySimulator> {
    const sim = new GatewaySimulator(options)
    await sim.listen(options.port ?? 0)
    return sim
  }

  get port(): number {
    return this.boundPort
  }

  get host(): string {
    return this.options.host ?? "127.0.0.1"
  }

  private makeServer(): Server {
    return createServer((socket: Socket) => {
      this.totalConnections++
      const s = new Session(this.nextSessionId++, this.ctx, socket)
      this.sessions.add(s)
    })
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(port, this.host, () => {
        this.server.off("error", reject)
        const addr = this.server.address()
        this.boundPort = typeof addr === "object" && addr ? addr.port : port
        this.listening = true
        resolve()
      })
    })
  }

  private async stopListening(): Promise<void> {
    if (!this.listening) return
    this.listening = false
    const old = this.server
    this.server = this.makeServer()
    // close() stops accepting at once but calls back only after every connection it accepted has ended:
    // sessions outlive a refuseConnections fault, so only wait when none is open (as in close()).
    const closed = new Promise<void>((resolve) => old.close(() => resolve()))
    if (this.sessions.size === 0) await closed
  }

  /** Configures pacing and latency at run time (the control API's `POST /config`). */
  configure(
    c: {
      readonly pacing?: PacingMode | undefined
      readonly timeScale?: number | undefined
      readonly latencyMs?: number | undefined
      readonly perBarUs?: number | undefined
      /** Applies to sessions that connect afterwards. */
      readonly serverVersion?: number | undefined
    }
  ): void {
    if (c.serverVersion !== undefined) this.serverVersion = checkVersion(c.serverVersion)
    this.pacingMode = c.pacing ?? this.pacingMode
    this.timeScale = c.timeScale ?? this.timeScale
    this.latencyMs = c.latencyMs ?? this.latencyMs
    this.perBarUs = c.perBarUs ?? this.perBarUs
    this.pacing.configure(this.pacingMode, this.timeScale)
  }

  /** Applies fault switches and runs one-shot fault actions against the open sessions. */
  async setFaults(p: FaultsPatch): Promise<void> {
    const f = this.faults
    if (p.silentHandshake !== undefined) f.silentHandshake = p.silentHandshake
    if (p.withholdNextValidId !== undefined) f.withholdNextValidId = p.withholdNextValidId
    if (p.stall !== undefined) f.stall = p.stall
    if (p.closeMidResponse !== undefined) f.closeMidResponse = p.closeMidResponse
    if (p.closeAfterMessages !== undefined) f.closeAfterMessages = p.closeAfterMessages
    if (p.notice165 !== undefined) f.notice165 = p.notice165
    if (p.pacingViolationNext !== undefined) f.pacingViolationNext = p.pacingViolationNext
    if (p.acceptDuplicateClientIds !== undefined) f.acceptDuplicateClientIds = p.acceptDuplicateClientIds
    if (p.dropConnections) { for (const s of [...this.sessions]) s.close() }
    if (p.garbageFrame) { for (const s of this.readySessions()) s.send(["999", "garbage"]) }
    if (p.serverBroken) { for (const s of this.readySessions()) s.sendError(-1, 2110, Text.serverBroken) }
    if (p.connectivityLost) {
      const { restoreAfterMs, dataLost } = p.connectivityLost
      for (const s of this.readySessions()) s.sendError(-1, 1100, Text.connectivityLost)
      this.afterMs(restoreAfterMs, () => {
        for (const s of this.readySessions()) {
          s.sendError(-1, dataLost ? 1101 : 1102, dataLost ? Text.restoredDataLost : Text.restoredDataMaintained)
        }
      })
    }
    if (p.hmdsBroken) {
      f.hmdsBroken = true
      for (const s of this.readySessions()) s.sendError(-1, 2105, Text.hmdsBroken)
      this.afterMs(p.hmdsBroken.restoreAfterMs, () => this.restoreHmds())
    }
    if (p.refuseConnections === true) {
      f.refuseConnections = true
      await this.stopListening()
    } else if (p.refuseConnections === false && f.refuseConnections) {
      f.refuseConnections = false
      await this.listen(this.boundPort)
    }
  }

  private restoreHmds(): void {
    this.faults.hmdsBroken = false
    for (const s of this.readySessions()) {
      s.sendError(-1, 2106, Text.hmdsOk)
      s.hmdsRestored()
    }
  }

  private afterMs(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.restoreTimers.delete(t)
      fn()
    }, ms)
    this.restoreTimers.add(t)
  }

  /** Open, logged-in sessions under `clientId`. */
  private sessionsOf(clientId: number | undefined): number {
    let n = 0
    for (const x of this.sessions) if (x.isReady && x.clientId === clientId) n++
    return n
  }

  private readySessions(): Array<Session> {
    return [...this.sessions].filter((s) => s.isReady)
  }

  /** Clears faults, pacing history, counters and the request log; open sessions stay. */
  async reset(): Promise<void> {
    for (const t of this.restoreTimers) clearTimeout(t)
    this.restoreTimers.clear()
    if (this.faults.hmdsBroken) this.restoreHmds()
    const wasRefusing = this.faults.refuseConnections
    Object.assign(this.faults, noFaults())
    if (wasRefusing) await this.listen(this.boundPort)
    this.pacing.reset()
    this.counters = zeroCounters()
    this.totalConnections = this.sessions.size
    this.requestLog.clear()
    // What is open now still counts: a reset must not hide two sessions sharing an id.
    this.maxSessionsPerClientId = 0
    for (const x of this.sessions) {
      if (x.isReady) this.maxSessionsPerClientId = Math.max(this.maxSessionsPerClientId, this.sessionsOf(x.clientId))
    }
  }

  stats(): SimulatorStats {
    const c = this.counters
    return {
      serverVersion: this.serverVersion,
      openConnections: this.sessions.size,
      totalConnections: this.totalConnections,
      clientIds: [...this.clientIds.keys()].sort((a, b) => a - b),
      requests: {
        historical: c.historical,
        contractDetails: c.contractDetails,
        headTimestamp: c.headTimestamp,
        currentTime: c.currentTime,
        total: c.total,
        byType: { ...c.byType }
      },
      unsupported: { ...c.unsupported },
      unsupportedTotal: Object.values(c.unsupported).reduce((a, b) => a + b, 0),
      unanswered: c.unanswered,
      stalled: c.stalled,
      unreadable: c.unreadable,
      historicalCancels: c.historicalCancels,
      openHistorical: this.ctx.openHistorical(),
      pacingViolations: c.pacingViolations,
      errorsSent: c.errorsSent,
      barsSent: c.barsSent,
      clientIdRefusals: c.clientIdRefusals,
      maxSessionsPerClientId: this.maxSessionsPerClientId
    }
  }

  /** The historical-data requests received since start or the last reset (the newest 20 000). */
  requests(): RequestLogSnapshot {
    return this.requestLog.snapshot()
  }

  /** Stops listening, drops every session and clears every timer. */
  async close(): Promise<void> {
    for (const t of this.restoreTimers) clearTimeout(t)
    this.restoreTimers.clear()
    for (const s of [...this.sessions]) s.close()
    await this.stopListening()
  }
}

const checkVersion = (v: number): number => {
  if (!Number.isInteger(v) || v < MIN_CLIENT_VERSION || v > SIM_MAX_VERSION) {
    throw new RangeError(`server version ${v} is outside ${MIN_CLIENT_VERSION}..${SIM_MAX_VERSION}`)
  }
  return v
}

/** Real time, or a clock that starts at `start` and runs `speed` times faster than real time. */
const simulatedClock = (start: number | undefined, speed: number): () => number => {
  if (start === undefined && speed === 1) return Date.now
  const t0 = Date.now()
  const s0 = start ?? t0
  return () => Math.floor(s0 + (Date.now() - t0) * speed)
}
