/**
 * A second, independent TWS API client for the tests, written from the protocol description
 * (/work/shared/reference/tws-protocol.md §1–2 and IB's message layouts), not from the simulator's code: it
 * imports nothing from src/. It negotiates a version range like older client libraries (v157..178 by
 * default), and decodes every frame it receives with a strict, version-aware decoder: a frame with a field
 * too many or too few, or a number that is not one, is recorded in `malformed`.
 */
import { connect as netConnect, type Socket } from "node:net"

export interface Decoded {
  readonly id: number
  readonly name: string
  readonly f: Readonly<Record<string, string>>
  /** Repeated groups (bars, sessions, secIds), each a record. */
  readonly items: ReadonlyArray<Readonly<Record<string, string>>>
}

class Underrun extends Error {}

/** Reads fields in order; `int` and `num` check the text as IB's readers would parse it. */
class Reader {
  private i = 0
  constructor(private readonly fields: ReadonlyArray<string>) {}
  str(): string {
    if (this.i >= this.fields.length) throw new Underrun(`underrun at field ${this.i}`)
    return this.fields[this.i++]!
  }
  int(): string {
    const s = this.str()
    if (s !== "" && !/^-?\d+$/.test(s)) throw new Error(`field ${this.i - 1} is not an integer: ${JSON.stringify(s)}`)
    return s
  }
  num(): string {
    const s = this.str()
    if (s !== "" && !Number.isFinite(Number(s))) throw new Error(`field ${this.i - 1} is not a number: ${s}`)
    return s
  }
  done(): void {
    if (this.i !== this.fields.length) throw new Error(`${this.fields.length - this.i} fields left over`)
  }
}

type Spec = ReadonlyArray<readonly [name: string, kind: "s" | "i" | "n"]>

const read = (r: Reader, spec: Spec, into: Record<string, string>) => {
  for (const [name, kind] of spec) into[name] = kind === "i" ? r.int() : kind === "n" ? r.num() : r.str()
}

const S = (...names: ReadonlyArray<string>): Spec =>
  names.map((n) => {
    const [name, kind] = n.split(":") as [string, string | undefined]
    return [name, (kind ?? "s") as "s" | "i" | "n"] as const
  })

/** Decoders by message id, for the negotiated server version `v` (thresholds are IB's MIN_SERVER_VER_*). */
const decoders: Record<number, [string, (r: Reader, v: number, f: Record<string, string>, items: Array<any>) => void]> =
  {
    4: ["ERR_MSG", (r, v, f) => {
      read(r, S("version:i", "id:i", "code:i", "message"), f)
      if (v >= 166) f["advancedOrderRejectJson"] = r.str()
    }],
    6: ["ACCT_VALUE", (r, _v, f) => read(r, S("version:i", "key", "value", "currency", "account"), f)],
    8: ["ACCT_UPDATE_TIME", (r, _v, f) => read(r, S("version:i", "time"), f)],
    9: ["NEXT_VALID_ID", (r, _v, f) => read(r, S("version:i", "orderId:i"), f)],
    10: ["CONTRACT_DATA", (r, v, f, items) => contractData(r, v, f, items)],
    15: ["MANAGED_ACCTS", (r, _v, f) => read(r, S("version:i", "accounts"), f)],
    17: ["HISTORICAL_DATA", (r, v, f, items) => {
      if (v < 124) f["version"] = r.int()
      read(r, S("reqId:i", "start", "end", "count:i"), f)
      for (let k = Number(f["count"]); k > 0; k--) {
        const b: Record<string, string> = {}
        read(r, S("date", "open:n", "high:n", "low:n", "close:n", "volume:n", "wap:n"), b)
        if (v < 124) b["hasGaps"] = r.str()
        b["barCount"] = r.int()
        items.push(b)
      }
    }],
    49: ["CURRENT_TIME", (r, _v, f) => read(r, S("version:i", "time:i"), f)],
    52: ["CONTRACT_DATA_END", (r, _v, f) => read(r, S("version:i", "reqId:i"), f)],
    53: ["OPEN_ORDER_END", (r, _v, f) => read(r, S("version:i"), f)],
    54: ["ACCT_DOWNLOAD_END", (r, _v, f) => read(r, S("version:i", "account"), f)],
    55: ["EXECUTION_DATA_END", (r, _v, f) => read(r, S("version:i", "reqId:i"), f)],
    62: ["POSITION_END", (r, _v, f) => read(r, S("version:i"), f)],
    63: ["ACCOUNT_SUMMARY", (r, _v, f) => read(r, S("version:i", "reqId:i", "account", "tag", "value", "currency"), f)],
    64: ["ACCOUNT_SUMMARY_END", (r, _v, f) => read(r, S("version:i", "reqId:i"), f)],
    72: ["POSITION_MULTI_END", (r, _v, f) => read(r, S("version:i", "reqId:i"), f)],
    73: [
      "ACCOUNT_UPDATE_MULTI",
      (r, _v, f) => read(r, S("version:i", "reqId:i", "account", "modelCode", "key", "value", "currency"), f)
    ],
    74: ["ACCOUNT_UPDATE_MULTI_END", (r, _v, f) => read(r, S("version:i", "reqId:i"), f)],
    88: ["HEAD_TIMESTAMP", (r, _v, f) => read(r, S("reqId:i", "timestamp"), f)],
    90: [
      "HISTORICAL_DATA_UPDATE",
      (r, _v, f) =>
        read(r, S("reqId:i", "barCount:i", "date", "open:n", "close:n", "high:n", "low:n", "wap:n", "volume:n"), f)
    ],
    102: ["COMPLETED_ORDERS_END", () => {}],
    106: ["HISTORICAL_SCHEDULE", (r, _v, f, items) => {
      read(r, S("reqId:i", "start", "end", "timeZone", "count:i"), f)
      for (let k = Number(f["count"]); k > 0; k--) {
        const s: Record<string, string> = {}
        read(r, S("start", "end", "refDate"), s)
        items.push(s)
      }
    }]
  }

/** CONTRACT_DATA as IB lays it out at each server version (the EDecoder's branches). */
const contractData = (r: Reader, v: number, f: Record<string, string>, items: Array<any>) => {
  const version = v < 164 ? Number(r.int()) : 8
  f["version"] = String(version)
  if (version >= 3) f["reqId"] = r.int()
  read(r, S("symbol", "secType", "lastTradeDateOrContractMonth"), f)
  if (v >= 182) f["lastTradeDate"] = r.str()
  read(r, S("strike:n", "right", "exchange", "currency", "localSymbol", "marketName", "tradingClass"), f)
  read(r, S("conId:i", "minTick:n"), f)
  if (v >= 110 && v < 164) f["mdSizeMultiplier"] = r.int()
  read(r, S("multiplier:n", "orderTypes", "validExchanges"), f)
  if (version >= 2) f["priceMagnifier"] = r.int()
  if (version >= 4) f["underConId"] = r.int()
  if (version >= 5) read(r, S("longName", "primaryExch"), f)
  if (version >= 6) {
    read(r, S("contractMonth", "industry", "category", "subcategory", "timeZoneId", "tradingHours", "liquidHours"), f)
  }
  if (version >= 8) read(r, S("evRule", "evMultiplier:n"), f)
  if (version >= 7) {
    for (let k = Number(r.int()); k > 0; k--) items.push({ tag: r.str(), value: r.str() })
  }
  if (v >= 121) f["aggGroup"] = r.int()
  if (v >= 122) read(r, S("underSymbol", "underSecType"), f)
  if (v >= 126) f["marketRuleIds"] = r.str()
  if (v >= 134) f["realExpirationDate"] = r.str()
  if (v >= 152) f["stockType"] = r.str()
  if (v === 163) f["sizeMinTick"] = r.num()
  if (v >= 164) read(r, S("minSize:n", "sizeIncrement:n", "suggestedSizeIncrement:n"), f)
  if (v >= 179 && f["secType"] === "FUND") { for (let k = 0; k < 17; k++) r.str() }
  if (v >= 186) {
    for (let k = Number(r.int()); k > 0; k--) items.push({ id: r.str(), description: r.str() })
  }
}

export interface ClientOptions {
  readonly minVersion?: number
  readonly maxVersion?: number
  readonly clientId?: number
}

export interface Contract {
  readonly conId?: number
  readonly symbol?: string
  readonly secType: string
  readonly lastTradeDateOrContractMonth?: string
  readonly exchange: string
  readonly currency?: string
  readonly localSymbol?: string
}

export class TwsTestClient {
  readonly messages: Array<Decoded> = []
  readonly malformed: Array<string> = []
  serverVersion = 0
  serverTime = ""
  private buf = Buffer.alloc(0)
  private greeted = false
  private closedFlag = false

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk) => this.onData(chunk))
    socket.on("close", () => (this.closedFlag = true))
    socket.on("error", () => (this.closedFlag = true))
  }

  get closed(): boolean {
    return this.closedFlag
  }

  /** Connects, sends the handshake and START_API, and resolves once NEXT_VALID_ID arrived. */
  static async connect(port: number, o: ClientOptions = {}): Promise<TwsTestClient> {
    const socket = netConnect({ host: "127.0.0.1", port })
    await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("error", reject)))
    socket.setNoDelay(true)
    const c = new TwsTestClient(socket)
    const range = Buffer.from(`v${o.minVersion ?? 157}..${o.maxVersion ?? 178}`, "latin1")
    const len = Buffer.alloc(4)
    len.writeUInt32BE(range.length)
    socket.write(Buffer.concat([Buffer.from("API\0", "latin1"), len, range]))
    await c.waitFor("server version", () => c.serverVersion > 0)
    c.send([71, 2, o.clientId ?? 0, ""])
    await c.waitFor("NEXT_VALID_ID", () => c.messages.some((m) => m.name === "NEXT_VALID_ID"))
    return c
  }

  send(fields: ReadonlyArray<string | number>): void {
    const body = Buffer.from(fields.map((x) => `${x}\0`).join(""), "utf8")
    const len = Buffer.alloc(4)
    len.writeUInt32BE(body.length)
    this.socket.write(Buffer.concat([len, body]))
  }

  close(): void {
    this.socket.destroy()
  }

  /** Polls until `check` holds; rejects after `ms` (a generous bound, not a timing assertion). */
  async waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
    const until = Date.now() + ms
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 1))
    }
  }

  named(name: string): Array<Decoded> {
    return this.messages.filter((m) => m.name === name)
  }

  errors(id?: number): Array<Decoded> {
    return this.named("ERR_MSG").filter((m) => id === undefined || Number(m.f["id"]) === id)
  }

  private onData(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk])
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0)
      if (this.buf.length < 4 + len) return
      const body = this.buf.toString("utf8", 4, 4 + len)
      this.buf = this.buf.subarray(4 + len)
      if (!body.endsWith("\0")) {
        this.malformed.push(`frame without final NUL: ${JSON.stringify(body.slice(0, 80))}`)
        continue
      }
      const fields = body.slice(0, -1).split("\0")
      if (!this.greeted) {
        this.greeted = true
        if (fields.length !== 2 || !/^\d+$/.test(fields[0]!)) this.malformed.push(`version frame ${fields.join("|")}`)
        this.serverVersion = Number(fields[0])
        this.serverTime = fields[1] ?? ""
        continue
      }
      this.decode(fields)
    }
  }

  private decode(fields: ReadonlyArray<string>): void {
    const id = Number(fields[0])
    const d = decoders[id]
    if (!d) return void this.malformed.push(`unknown message id ${fields[0]}`)
    const f: Record<string, string> = {}
    const items: Array<Record<string, string>> = []
    try {
      const r = new Reader(fields.slice(1))
      d[1](r, this.serverVersion, f, items)
      r.done()
      this.messages.push({ id, name: d[0], f, items })
    } catch (e) {
      this.malformed.push(`${d[0]} at v${this.serverVersion}: ${(e as Error).message}: ${fields.join("|")}`)
    }
  }

  // ---- requests, laid out for the negotiated version ----------------------------------------------

  private contractFields(c: Contract): Array<string | number> {
    return [
      c.conId ?? 0,
      c.symbol ?? "",
      c.secType,
      c.lastTradeDateOrContractMonth ?? "",
      "",
      "",
      "",
      c.exchange,
      "",
      c.currency ?? "",
      c.localSymbol ?? "",
      ""
    ]
  }

  reqContractDetails(reqId: number, c: Contract): void {
    const issuer = this.serverVersion >= 176 ? [""] : []
    this.send([9, 8, reqId, ...this.contractFields(c), 0, "", "", ...issuer])
  }

  reqHeadTimestamp(reqId: number, c: Contract, whatToShow: string, useRTH: boolean, formatDate: number): void {
    this.send([87, reqId, ...this.contractFields(c), 0, useRTH ? 1 : 0, whatToShow, formatDate])
  }

  reqHistoricalData(
    reqId: number,
    c: Contract,
    a: { end: string; duration: string; barSize: string; whatToShow: string; useRTH: boolean; keepUpToDate?: boolean }
  ): void {
    const synt = this.serverVersion >= 124
    this.send([
      20,
      ...(synt ? [] : [6]),
      reqId,
      ...this.contractFields(c),
      0,
      a.end,
      a.barSize,
      a.duration,
      a.useRTH ? 1 : 0,
      a.whatToShow,
      1,
      ...(synt ? [a.keepUpToDate ? 1 : 0] : []),
      ""
    ])
  }

  /** The startup requests client libraries send after connecting (ib_async-style). */
  startup(account: string, reqIds: { multi: number; executions: number }): void {
    this.send([61, 1]) // reqPositions
    this.send([5, 1]) // reqOpenOrders
    if (this.serverVersion >= 150) this.send([99, 0]) // reqCompletedOrders(apiOnly=false), from v150
    this.send([6, 2, 1, account]) // reqAccountUpdates(subscribe, account)
    this.send([76, 1, reqIds.multi, account, "", 1]) // reqAccountUpdatesMulti(reqId, account, model, ledgerAndNLV)
    this.send([7, 3, reqIds.executions, 0, "", "", "", "", "", ""]) // reqExecutions(reqId, empty filter)
  }
}
