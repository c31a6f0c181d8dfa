/** Malformed input costs only the offending connection; the gateway and its other clients carry on. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import type { GatewaySimulator } from "../../src/sim/GatewaySimulator.ts"
import {
  codes,
  connectNext,
  frameBytes,
  helloBytes,
  rawSocket,
  Resources,
  waitFor,
  within,
  type NextClient,
  type RawSocket
} from "./support.ts"

const res = new Resources()
let sim: GatewaySimulator
let next: NextClient

beforeAll(async () => {
  // One test sends a request before START_API, which a gateway leaves unanswered.
  sim = await res.sim({ latencyMs: 0 }, { allowUnanswered: true })
  next = await connectNext(res, sim.port, 1)
})
afterAll(() => res.closeAll())
afterEach(async () => {
  // The well-behaved client is untouched by whatever the test sent.
  expect(await within(next.ib.getContractDetails({ conId: 265598, exchange: "SMART" }), 5000, "bystander request"))
    .toHaveLength(1)
  expect(codes(next.errors)).not.toContain(505)
  await waitFor("only the bystander open", () => sim.stats().openConnections, (n) => n === 1, 1000)
})

/** Every complete frame in `buf`, as NUL-split fields (the first one is the version frame). */
const frames = (buf: Buffer): Array<Array<string>> => {
  const out: Array<Array<string>> = []
  let at = 0
  while (buf.length - at >= 4) {
    const len = buf.readUInt32BE(at)
    if (buf.length - at - 4 < len) break
    out.push(buf.toString("utf8", at + 4, at + 4 + len).split("\0").slice(0, -1))
    at += 4 + len
  }
  return out
}

const START_API = (clientId: number) => frameBytes(["71", "2", String(clientId), ""])

/** A socket through the handshake and START_API, with the login messages received. */
const loggedIn = async (clientId: number): Promise<RawSocket> => {
  const s = await rawSocket(res, sim.port)
  s.socket.write(Buffer.concat([helloBytes(), START_API(clientId)]))
  await waitFor("login messages", () => frames(s.received()).length, (n) => n >= 6)
  return s
}

const expectClosed = async (s: RawSocket, what: string) => {
  await within(s.closed, 5000, `${what}: socket closed by the simulator`)
  expect(s.isClosed()).toBe(true)
}

describe("a broken stream closes the offending connection only", () => {
  it("bytes that are not `API\\0`", async () => {
    const s = await rawSocket(res, sim.port)
    s.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await expectClosed(s, "HTTP request")
    expect(s.received().length).toBe(0)
  })

  it("a partial prefix that cannot become `API\\0` is rejected without waiting for more", async () => {
    const s = await rawSocket(res, sim.port)
    s.socket.write("AP!")
    await expectClosed(s, "bad 3-byte prefix")
  })

  it("an absurd handshake length", async () => {
    const s = await rawSocket(res, sim.port)
    const b = Buffer.from("API\0\x7f\xff\xff\xff", "latin1")
    s.socket.write(b)
    await expectClosed(s, "absurd hello length")
  })

  it("a malformed version string", async () => {
    const s = await rawSocket(res, sim.port)
    const v = Buffer.from("hello", "latin1")
    const len = Buffer.alloc(4)
    len.writeUInt32BE(v.length)
    s.socket.write(Buffer.concat([Buffer.from("API\0", "latin1"), len, v]))
    await expectClosed(s, "malformed version string")
  })

  it("a frame with an absurd length (no later frame boundary can be trusted)", async () => {
    const s = await loggedIn(22)
    s.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x31, 0x00]))
    await expectClosed(s, "absurd frame length")
  })

  it("a handshake below v100 is closed without an answer and logged once", async () => {
    const lines: Array<string> = []
    const logged = await res.sim({ log: (l) => lines.push(l) })
    const s = await rawSocket(res, logged.port)
    s.socket.write(helloBytes("v38..99"))
    await expectClosed(s, "pre-v100 handshake")
    expect(s.received().length).toBe(0)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/v38\.\.99 is below v100; closing/)
  })
})

/** 320 "Error reading request" with id -1, at v193 with the empty advancedOrderRejectJson field. */
const isReadError = (f: ReadonlyArray<string>) =>
  f[0] === "4" && f[2] === "-1" && f[3] === "320" && f[4]!.startsWith("Error reading request") && f.length === 6

/** Sends `bytes`, expects one 320 for them, and that the session still answers REQ_CURRENT_TIME. */
const expectReadErrorAndAlive = async (s: RawSocket, bytes: Buffer, n = 1) => {
  const before = frames(s.received()).length
  s.socket.write(Buffer.concat([bytes, frameBytes(["49", "1"])]))
  const fs = await waitFor(
    "320, then current time",
    () => frames(s.received()).slice(before),
    (f) => f.some((x) => x[0] === "49")
  )
  expect(fs.filter(isReadError)).toHaveLength(n)
  expect(fs.at(-1)![0]).toBe("49")
  expect(s.isClosed()).toBe(false)
  s.socket.destroy()
}

describe("an unreadable frame gets the gateway's 320 and the session stays up", () => {
  it("a frame that does not end in NUL", async () => {
    const s = await loggedIn(21)
    expect(frames(s.received())[0]![0]).toBe("193")
    await expectReadErrorAndAlive(s, Buffer.from("\x00\x00\x00\x05hello", "latin1"))
  })

  it("a zero-length frame", async () => {
    const s = await loggedIn(23)
    await expectReadErrorAndAlive(s, Buffer.from([0, 0, 0, 0]))
  })

  it("a non-numeric message id", async () => {
    const s = await loggedIn(24)
    await expectReadErrorAndAlive(s, frameBytes(["hello", "world"]))
  })

  it("a known message with the wrong number of fields, or a non-integer field", async () => {
    const s = await loggedIn(25)
    const badHead = frameBytes(
      ["87", "x1", "0", "AAPL", "STK", "", "", "", "", "SMART", "", "USD", "", "", "0", "1", "TRADES", "1"]
    )
    await expectReadErrorAndAlive(s, Buffer.concat([frameBytes(["49"]), badHead]), 2)
    expect(sim.stats().unreadable).toBeGreaterThanOrEqual(2)
  })
})

describe("tolerated input", () => {
  it("a session fed one byte at a time works", async () => {
    const s = await rawSocket(res, sim.port)
    const bytes = Buffer.concat([helloBytes(), START_API(31), frameBytes(["49", "1"])])
    for (const b of bytes) {
      s.socket.write(Buffer.from([b]))
      await new Promise<void>((r) => setImmediate(r))
    }
    const fs = await waitFor("current time", () => frames(s.received()), (f) => f.some((x) => x[0] === "49"))
    const kinds = fs.map((f) => f[0])
    expect(kinds).toEqual(["193", "15", "9", "4", "4", "4", "49"])
    expect(fs.find((f) => f[0] === "49")![1]).toBe("1")
    expect(Math.abs(Number(fs.find((f) => f[0] === "49")![2]) - Date.now() / 1000)).toBeLessThan(60)
    s.socket.destroy()
  })

  it("frames packed into one chunk are all answered, in order", async () => {
    const s = await loggedIn(32)
    const before = frames(s.received()).length
    s.socket.write(
      Buffer.concat([
        frameBytes(["49", "1"]),
        frameBytes(["17", "1"]),
        frameBytes(["8", "1", "1"]),
        frameBytes(["49", "1"])
      ])
    )
    const fs = await waitFor("four answers", () => frames(s.received()).slice(before), (f) => f.length === 4)
    expect(fs.map((f) => f[0])).toEqual(["49", "15", "9", "49"])
    expect(fs[1]).toEqual(["15", "1", "DU1234567"])
    s.socket.destroy()
  })

  it("requests before START_API are ignored (counted unanswered); unsupported ones get 321 with their id", async () => {
    const before = sim.stats()
    const s = await rawSocket(res, sim.port)
    s.socket.write(Buffer.concat([helloBytes(), frameBytes(["49", "1"])]))
    await waitFor("version frame", () => frames(s.received()).length, (n) => n === 1)
    s.socket.write(Buffer.concat([START_API(33), frameBytes(["1", "11", "42", "AAPL"]), frameBytes(["49", "1"])]))
    const fs = await waitFor("current time", () => frames(s.received()), (f) => f.some((x) => x[0] === "49"))
    expect(fs.filter((f) => f[0] === "49")).toHaveLength(1)
    const refusal = fs.find((f) => f[0] === "4" && f[3] === "321")
    expect(refusal?.slice(2, 5)).toEqual([
      "42",
      "321",
      "Error validating request.-'sim' : cause - REQ_MKT_DATA is not supported by the simulated gateway"
    ])
    expect(s.isClosed()).toBe(false)
    const after = sim.stats()
    expect(after.unanswered - before.unanswered).toBe(1)
    expect((after.unsupported["REQ_MKT_DATA"] ?? 0) - (before.unsupported["REQ_MKT_DATA"] ?? 0)).toBe(1)
    s.socket.destroy()
  })

  it("an empty client id (IBApi.connect() without an id) is client 0", async () => {
    const s = await rawSocket(res, sim.port)
    s.socket.write(Buffer.concat([helloBytes(), frameBytes(["71", "2", "", ""])]))
    await waitFor("login", () => frames(s.received()).length, (n) => n >= 3)
    expect(sim.stats().clientIds).toContain(0)
    s.socket.destroy()
  })

  it("a client vanishing with a historical request in flight leaves nothing behind", async () => {
    const slow = await res.sim({ latencyMs: 300 })
    const s = await rawSocket(res, slow.port)
    s.socket.write(Buffer.concat([helloBytes(), START_API(1)]))
    await waitFor("login", () => frames(s.received()).length, (n) => n >= 6)
    s.socket.write(
      frameBytes([
        "20",
        "5",
        "0",
        "AAPL",
        "STK",
        "",
        "",
        "",
        "",
        "SMART",
        "",
        "USD",
        "",
        "",
        "0",
        "20240305 16:00:00 US/Eastern",
        "1 hour",
        "1 D",
        "1",
        "TRADES",
        "1",
        "0",
        ""
      ])
    )
    await waitFor("request open", () => slow.stats().openHistorical, (n) => n === 1)
    s.socket.destroy()
    await waitFor(
      "closed on the gateway",
      () => slow.stats(),
      (st) => st.openConnections === 0 && st.openHistorical === 0,
      1000
    )
    expect(slow.stats().barsSent).toBe(0)
  })
})
