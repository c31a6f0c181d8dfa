/**
 * Connection hygiene: one keep-alive connection per command, nothing left open after 200 commands (at
 * the server or at the simulator), no request before parsing, and POST/DELETE never retried.
 * A counting TCP proxy in front of the server sees every connection a command opens.
 */
import { createServer, type Server, type Socket, connect } from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  baseEnv,
  embeddedEnv,
  ensureBuilt,
  establishedTo,
  ktrdr,
  remoteEnv,
  removeDir,
  simStats,
  startServer,
  startSim,
  stopAll,
  until,
  type ServerProcess,
  type SimProcess
} from "./support.ts"

let sim: SimProcess | undefined
let server: ServerProcess | undefined

interface Proxy {
  readonly url: string
  /** Connections accepted since the last reset, and the request lines seen on them. */
  readonly connections: () => number
  readonly requests: () => ReadonlyArray<string>
  readonly reset: () => void
  /** When set, connections are accepted, read and then destroyed without an answer. */
  drop: boolean
  readonly close: () => Promise<void>
}

const startProxy = (targetPort: number) =>
  new Promise<Proxy>((resolve) => {
    let connections = 0
    let requests: Array<string> = []
    const sockets = new Set<Socket>()
    const proxy: Proxy = {
      url: "",
      connections: () => connections,
      requests: () => requests,
      reset: () => {
        connections = 0
        requests = []
      },
      drop: false,
      close: () =>
        new Promise((r) => {
          for (const s of sockets) s.destroy()
          server.close(() => r())
        })
    }
    const server: Server = createServer((client) => {
      connections++
      sockets.add(client)
      client.on("close", () => sockets.delete(client))
      client.on("data", (d) => {
        for (const m of d.toString("latin1").matchAll(/^(GET|POST|DELETE|PUT) (\S+) HTTP\/1\.1/gm)) {
          requests.push(`${m[1]} ${m[2]}`)
        }
      })
      if (proxy.drop) {
        client.once("data", () => client.destroy())
        return
      }
      const upstream = connect(targetPort, "127.0.0.1")
      sockets.add(upstream)
      upstream.on("close", () => {
        sockets.delete(upstream)
        client.destroy()
      })
      client.on("close", () => upstream.destroy())
      client.on("error", () => upstream.destroy())
      upstream.on("error", () => client.destroy())
      client.pipe(upstream).pipe(client)
    }).listen(0, "127.0.0.1", () => {
      resolve(Object.assign(proxy, { url: `http://127.0.0.1:${(server.address() as { port: number }).port}` }))
    })
  })

let proxy: Proxy | undefined

beforeAll(async () => {
  await ensureBuilt()
  sim = await startSim()
  server = await startServer(sim)
  proxy = await startProxy(server.port)
  expect((await ktrdr(["data", "load", "AAPL", "-t", "1h", "-q"], remoteEnv(server))).code).toBe(0)
}, 180_000)

afterAll(async () => {
  await proxy?.close()
  await stopAll(server, sim)
  await removeDir(server?.dataDir)
})

const viaProxy = () => baseEnv({ KTRDR_API_URL: proxy!.url })

describe("connections", () => {
  it("a command's requests share one keep-alive connection (data load: POST, then the event stream)", async () => {
    proxy!.reset()
    const r = await ktrdr(["data", "load", "AAPL", "-t", "1d", "-q"], viaProxy())
    expect(r.code).toBe(0)
    expect(proxy!.requests()).toEqual([
      "POST /api/v1/data/load?async_mode=true",
      expect.stringMatching(/^GET \/api\/v1\/operations\/op_data_load_\S+\/events$/)
    ])
    expect(proxy!.connections()).toBe(1)
  })

  it("--help, --version and usage errors send nothing (the client is built after parsing)", async () => {
    proxy!.reset()
    for (
      const args of [["--help"], ["--version"], ["data", "show", "--help"], ["data", "show", "AAPL", "-t", "2d"], [
        "operations",
        "status"
      ]]
    ) {
      const r = await ktrdr(args, viaProxy())
      expect([0, 2]).toContain(r.code)
    }
    expect(proxy!.connections()).toBe(0)
  })

  it("a POST that loses its connection is reported once, not retried", async () => {
    proxy!.reset()
    proxy!.drop = true
    try {
      const r = await ktrdr(["data", "load", "AAPL", "-t", "1d", "-q"], viaProxy())
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^Error: request to http:\/\/127\.0\.0\.1:\d+ failed/m)
      expect(proxy!.requests()).toEqual(["POST /api/v1/data/load?async_mode=true"])
      expect(proxy!.connections()).toBe(1)
    } finally {
      proxy!.drop = false
    }
  })

  it(
    "200 consecutive commands leave no connection open at the server or the simulator",
    { timeout: 600_000 },
    async () => {
      const commands = [
        ["data", "show", "AAPL", "-t", "1h"],
        ["data", "show", "AAPL", "-t", "1h", "-f", "json"],
        ["data", "range", "AAPL", "-t", "1h"],
        ["operations", "list"],
        ["ib", "status", "-f", "json"]
      ]
      for (let i = 0; i < 200; i++) {
        const r = await ktrdr(commands[i % commands.length]!, remoteEnv(server!))
        if (r.code !== 0) throw new Error(`command ${i} failed (${r.code}): ${r.stderr}`)
      }
      await until(() => establishedTo(server!.port) === 0, 10_000, "the server's client connections to close")
      const stats = await simStats(sim!)
      expect(stats.openConnections).toBe(1) // the server's own gateway session
      // Embedded commands that need IB open and close their own session each; the others open none.
      for (let i = 0; i < 3; i++) {
        expect((await ktrdr(["ib", "status", "-f", "json", "--embedded"], embeddedEnv(sim!, server!))).code).toBe(0)
        expect((await ktrdr(["data", "show", "AAPL", "-t", "1h", "--embedded"], embeddedEnv(sim!, server!))).code).toBe(
          0
        )
      }
      await until(async () => (await simStats(sim!)).openConnections === 1, 10_000, "embedded sessions to close")
      expect((await simStats(sim!)).totalConnections).toBe(stats.totalConnections + 3)
    }
  )
})
