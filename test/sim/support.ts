/**
 * Shared wiring for the simulator tests: the real, unmodified @stoqey/ib client (IBApiNext and the
 * event-level IBApi) over real TCP, raw sockets for malformed input, and a tracker that closes every
 * client and simulator a test opened.
 */
import { connect as netConnect, createServer, type Socket } from "node:net"
import {
  ConnectionState,
  EventName,
  IBApi,
  IBApiNext,
  SecType,
  type BarSizeSetting,
  type Contract,
  type IBApiNextError,
  type WhatToShow
} from "@stoqey/ib"
import { GatewaySimulator, type SimulatorOptions } from "../../src/sim/GatewaySimulator.ts"

export const HOST = "127.0.0.1"

// ---------------------------------------------------------------------------------------------
// Contracts
// ---------------------------------------------------------------------------------------------

export const stock = (symbol: string, exchange = "SMART"): Contract => ({
  symbol,
  secType: SecType.STK,
  exchange,
  currency: "USD"
})
export const AAPL = stock("AAPL")
export const TSLA = stock("TSLA")
export const EURUSD: Contract = { symbol: "EUR", secType: SecType.CASH, exchange: "IDEALPRO", currency: "USD" }
export const SPX: Contract = { symbol: "SPX", secType: SecType.IND, exchange: "CBOE", currency: "USD" }
export const ES: Contract = { symbol: "ES", secType: SecType.FUT, exchange: "CME", currency: "USD" }
export const UNKNOWN = stock("NOSUCHSYMBOL")

export const bar = (s: string) => s as BarSizeSetting
export const what = (s: string) => s as WhatToShow

// ---------------------------------------------------------------------------------------------
// Generic async helpers
// ---------------------------------------------------------------------------------------------

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `get` until `check` holds; rejects with the last value after `ms`. */
export const waitFor = async <A>(what: string, get: () => A, check: (a: A) => boolean, ms = 5000): Promise<A> => {
  const until = Date.now() + ms
  for (;;) {
    const a = get()
    if (check(a)) return a
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(a)}`)
    await sleep(10)
  }
}

/** Settles with the promise, or with a timeout error after `ms`. */
export const within = <A>(p: Promise<A>, ms: number, what: string): Promise<A> =>
  new Promise<A>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    p.then(
      (a) => (clearTimeout(t), resolve(a)),
      (e) => (clearTimeout(t), reject(e))
    )
  })

export type Settled<A> = { readonly state: "pending" } | { readonly state: "resolved"; readonly value: A } | {
  readonly state: "rejected"
  readonly error: unknown
}

/** Observes a promise without awaiting it; `ms` later, reports whether (and how) it settled. */
export const settledAfter = async <A>(p: Promise<A>, ms: number): Promise<Settled<A>> => {
  let s: Settled<A> = { state: "pending" }
  p.then(
    (value) => (s = { state: "resolved", value }),
    (error) => (s = { state: "rejected", error })
  )
  await sleep(ms)
  return s
}

/** The code carried by an IBApiNextError rejection. */
export const codeOf = (
  e: unknown
): number | undefined => (e && typeof e === "object" && "code" in e ? Number((e as { code: unknown }).code) : undefined)

/** A port that was free a moment ago. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once("error", reject)
    srv.listen(0, HOST, () => {
      const addr = srv.address()
      const port = typeof addr === "object" && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })

// ---------------------------------------------------------------------------------------------
// Resource tracking: every test file closes what it opened
// ---------------------------------------------------------------------------------------------

type Closer = () => void | Promise<void>

export class Resources {
  private closers: Array<Closer> = []

  add(c: Closer): void {
    this.closers.push(c)
  }

  private unanswered: Array<string> = []

  /**
   * Closes clients first (newest first), then the simulators they talk to; then fails if a simulator left a
   * request unanswered (its `/stats` counter), unless the test opted out because it stalls the gateway.
   */
  async closeAll(): Promise<void> {
    const cs = this.closers.reverse()
    this.closers = []
    for (const c of cs) {
      try {
        await c()
      } catch {
        // closing is best effort; a failing close must not hide the test's own result
      }
    }
    const left = this.unanswered
    this.unanswered = []
    if (left.length > 0) throw new Error(`simulator left requests unanswered: ${left.join("; ")}`)
  }

  async sim(options: SimulatorOptions = {}, o: { allowUnanswered?: boolean } = {}): Promise<GatewaySimulator> {
    const sim = await GatewaySimulator.start(options)
    this.add(() => {
      const n = sim.stats().unanswered
      if (n > 0 && !o.allowUnanswered) this.unanswered.push(`${n} on port ${sim.port}`)
      return sim.close()
    })
    return sim
  }
}

const silentLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} }

// ---------------------------------------------------------------------------------------------
// IBApiNext
// ---------------------------------------------------------------------------------------------

export interface NextClient {
  readonly ib: IBApiNext
  /** Everything that reached `ib.error`. */
  readonly errors: Array<IBApiNextError>
  /** Every connection state seen, in order. */
  readonly states: Array<ConnectionState>
  readonly state: () => ConnectionState | undefined
  close(): void
}

/** Creates an IBApiNext (no auto-reconnect, no watchdog) and starts connecting with a fixed client id. */
export const openNext = (res: Resources, port: number, clientId: number): NextClient => {
  const ib = new IBApiNext({
    host: HOST,
    port,
    maxReqPerSec: 1000,
    reconnectInterval: 0,
    connectionWatchdogInterval: 0,
    logger: silentLogger
  })
  const errors: Array<IBApiNextError> = []
  const states: Array<ConnectionState> = []
  const subs = [ib.error.subscribe((e) => errors.push(e)), ib.connectionState.subscribe((s) => states.push(s))]
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    try {
      ib.disconnect()
    } catch {
      // a wedged instance may throw; the simulator's close destroys its socket
    }
    for (const s of subs) s.unsubscribe()
  }
  res.add(close)
  ib.connect(clientId)
  return { ib, errors, states, state: () => states[states.length - 1], close }
}

/** An IBApiNext that has answered getCurrentTime (so NEXT_VALID_ID arrived and requests flow). */
export const connectNext = async (res: Resources, port: number, clientId: number): Promise<NextClient> => {
  const c = openNext(res, port, clientId)
  await within(c.ib.getCurrentTime(), 5000, `IBApiNext client ${clientId} ready`)
  return c
}

export const codes = (errors: ReadonlyArray<{ readonly code: number }>) => errors.map((e) => Number(e.code))

// ---------------------------------------------------------------------------------------------
// IBApi (event level)
// ---------------------------------------------------------------------------------------------

export interface RawError {
  readonly code: number
  readonly reqId: number
  readonly message: string
}

export interface RawBar {
  readonly time: string
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
  readonly count: number | undefined
  readonly WAP: number
}

/** A compact log of everything the raw client saw, in order. */
export type RawEvent =
  | { readonly kind: "connected" }
  | { readonly kind: "disconnected" }
  | { readonly kind: "server"; readonly version: number }
  | { readonly kind: "nextValidId"; readonly id: number }
  | { readonly kind: "managedAccounts"; readonly accounts: string }
  | { readonly kind: "info"; readonly code: number; readonly message: string }
  | { readonly kind: "error"; readonly code: number; readonly reqId: number; readonly message: string }
  | { readonly kind: "bar"; readonly reqId: number }
  | { readonly kind: "barsEnd"; readonly reqId: number }

export interface RawClient {
  readonly api: IBApi
  readonly events: Array<RawEvent>
  readonly errors: Array<RawError>
  readonly infos: Array<{ readonly code: number; readonly message: string }>
  readonly bars: Map<number, Array<RawBar>>
  readonly finished: Set<number>
  readonly connected: () => boolean
  close(): void
}

/** Creates an IBApi (explicit host, port and client id; the npm build has no defaults) and connects. */
export const openRaw = (res: Resources, port: number, clientId: number): RawClient => {
  const api = new IBApi({ host: HOST, port, clientId, maxReqPerSec: 1000 })
  const events: Array<RawEvent> = []
  const errors: Array<RawError> = []
  const infos: Array<{ code: number; message: string }> = []
  const bars = new Map<number, Array<RawBar>>()
  const finished = new Set<number>()
  let isConnected = false
  api.on(EventName.connected, () => ((isConnected = true), events.push({ kind: "connected" })))
  api.on(EventName.disconnected, () => ((isConnected = false), events.push({ kind: "disconnected" })))
  api.on(EventName.server, (version: number) => events.push({ kind: "server", version }))
  api.on(EventName.nextValidId, (id: number) => events.push({ kind: "nextValidId", id }))
  api.on(EventName.managedAccounts, (accounts: string) => events.push({ kind: "managedAccounts", accounts }))
  api.on(EventName.info, (message: string, code: number) => {
    infos.push({ code, message })
    events.push({ kind: "info", code, message })
  })
  api.on(EventName.error, (err: Error, code: number, reqId: number) => {
    errors.push({ code, reqId, message: err.message })
    events.push({ kind: "error", code, reqId, message: err.message })
  })
  api.on(
    EventName.historicalData,
    (
      reqId: number,
      time: string,
      open: number,
      high: number,
      low: number,
      close: number,
      volume: number,
      count: number | undefined,
      WAP: number
    ) => {
      if (time.startsWith("finished")) {
        finished.add(reqId)
        events.push({ kind: "barsEnd", reqId })
        return
      }
      let list = bars.get(reqId)
      if (!list) bars.set(reqId, list = [])
      list.push({ time, open, high, low, close, volume, count, WAP })
      events.push({ kind: "bar", reqId })
    }
  )
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    if (isConnected) api.disconnect()
    api.removeAllListeners()
  }
  res.add(close)
  api.connect(clientId)
  return { api, events, errors, infos, bars, finished, connected: () => isConnected, close }
}

/** An IBApi that has received NEXT_VALID_ID. */
export const connectRaw = async (res: Resources, port: number, clientId: number): Promise<RawClient> => {
  const c = openRaw(res, port, clientId)
  await waitFor(`IBApi client ${clientId} nextValidId`, () => c.events.some((e) => e.kind === "nextValidId"), (x) => x)
  return c
}

/** Fatal for a request: what IBApiNext would reject with (not warnings, not the 165 notice). */
export const isTerminal = (e: RawError) =>
  !(e.code >= 2100 && e.code < 3000) && e.code !== 165 && !e.message.includes("Warning:")

export type RawOutcome =
  | { readonly _tag: "bars"; readonly bars: ReadonlyArray<RawBar>; readonly notices: ReadonlyArray<RawError> }
  | { readonly _tag: "error"; readonly error: RawError; readonly notices: ReadonlyArray<RawError> }

/** Waits until request `reqId` finished with bars or with a terminal error. */
export const outcome = async (c: RawClient, reqId: number, ms = 10_000): Promise<RawOutcome> => {
  const mine = () => c.errors.filter((e) => e.reqId === reqId)
  await waitFor(`request ${reqId} to finish`, () => c.finished.has(reqId) || mine().some(isTerminal), (x) => x, ms)
  const err = mine().find(isTerminal)
  const notices = mine().filter((e) => !isTerminal(e))
  return err ? { _tag: "error", error: err, notices } : { _tag: "bars", bars: c.bars.get(reqId) ?? [], notices }
}

export interface HistArgs {
  readonly contract: Contract
  readonly end: string
  readonly duration: string
  readonly barSize: string
  readonly whatToShow?: string
  readonly useRTH?: boolean
  readonly formatDate?: number
}

/** Fires REQ_HISTORICAL_DATA on a raw client without waiting. */
export const reqHist = (c: RawClient, reqId: number, a: HistArgs): void => {
  c.api.reqHistoricalData(
    reqId,
    a.contract,
    a.end,
    a.duration,
    bar(a.barSize),
    what(a.whatToShow ?? "TRADES"),
    a.useRTH ?? true ? 1 : 0,
    a.formatDate ?? 1,
    false
  )
}

// ---------------------------------------------------------------------------------------------
// Raw sockets
// ---------------------------------------------------------------------------------------------

export interface RawSocket {
  readonly socket: Socket
  /** Everything received so far. */
  readonly received: () => Buffer
  readonly closed: Promise<void>
  readonly isClosed: () => boolean
}

export const rawSocket = async (res: Resources, port: number): Promise<RawSocket> => {
  const socket = netConnect({ host: HOST, port })
  const chunks: Array<Buffer> = []
  let isClosed = false
  socket.on("data", (b) => chunks.push(b))
  socket.on("error", () => {})
  const closed = new Promise<void>((resolve) => socket.on("close", () => ((isClosed = true), resolve())))
  res.add(() => void socket.destroy())
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve)
    socket.once("error", reject)
  })
  return { socket, received: () => Buffer.concat(chunks), closed, isClosed: () => isClosed }
}

/** `API\0` + BE32 length + version string, as the client library sends it. */
export const helloBytes = (range = "v100..193"): Buffer => {
  const v = Buffer.from(range, "latin1")
  const len = Buffer.alloc(4)
  len.writeUInt32BE(v.length)
  return Buffer.concat([Buffer.from("API\0", "latin1"), len, v])
}

/** A frame of NUL-terminated fields. */
export const frameBytes = (fields: ReadonlyArray<string>): Buffer => {
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(""), "utf8")
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}

// ---------------------------------------------------------------------------------------------
// Bars
// ---------------------------------------------------------------------------------------------

export interface Ohlcv {
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
}

/** First open, max high, min low, last close, summed volume. */
export const aggregate = (
  bars: ReadonlyArray<{ open?: number; high?: number; low?: number; close?: number; volume?: number }>
): Ohlcv => {
  if (bars.length === 0) throw new Error("aggregate of no bars")
  return {
    open: bars[0]!.open!,
    high: Math.max(...bars.map((b) => b.high!)),
    low: Math.min(...bars.map((b) => b.low!)),
    close: bars[bars.length - 1]!.close!,
    volume: bars.reduce((a, b) => a + b.volume!, 0)
  }
}

export const ohlcv = (b: { open?: number; high?: number; low?: number; close?: number; volume?: number }): Ohlcv => ({
  open: b.open!,
  high: b.high!,
  low: b.low!,
  close: b.close!,
  volume: b.volume!
})

/** `yyyyMMdd HH:mm:ss Zone` → its parts (intraday bars with formatDate 1). */
export const local = (time: string) => {
  const m = /^(\d{8}) (\d{2}:\d{2}):(\d{2}) (\S+)$/.exec(time)
  if (!m) throw new Error(`not a formatDate-1 bar time: ${JSON.stringify(time)}`)
  return { day: m[1]!, hhmm: m[2]!, zone: m[4]! }
}

/** Day of week (0 = Sunday) of a `yyyyMMdd` day. */
export const weekday = (yyyymmdd: string): number =>
  new Date(Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8))))
    .getUTCDay()

export { ConnectionState }
