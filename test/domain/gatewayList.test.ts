import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { parseGatewayList, parseHostPort } from "../../src/domain/gatewayList.ts"

describe("KTRDR_IB_GATEWAYS", () => {
  it("reads names, addresses and client ids (default 1)", () => {
    expect(parseGatewayList("gw1=127.0.0.1:4002/7, gw-2=ib.example.com:4001,")).toEqual(Either.right([
      { name: "gw1", host: "127.0.0.1", port: 4002, clientId: 7 },
      { name: "gw-2", host: "ib.example.com", port: 4001, clientId: 1 }
    ]))
    expect(parseGatewayList("v6=[::1]:4002/3")).toEqual(
      Either.right([{ name: "v6", host: "::1", port: 4002, clientId: 3 }])
    )
    expect(parseGatewayList("  ")).toEqual(Either.right([]))
  })

  it("refuses what would break the cluster, naming the item", () => {
    const left = (s: string) => Either.getLeft(parseGatewayList(s)).pipe((o) => (o._tag === "Some" ? o.value : ""))
    expect(left("gw1=127.0.0.1")).toContain(`"gw1=127.0.0.1" is not name=host:port`)
    expect(left("gw1=h:70000")).toContain("port 70000 is outside 1..65535")
    expect(left("a=h:1,a=g:2")).toBe("gateway name a appears twice")
    // Two sessions with one client id to one gateway: IB answers 326; the cluster must never try.
    expect(left("a=H:4002/1,b=h:4002")).toContain("h:4002/1 appears twice")
    expect(left("a=h:1/x")).toContain("is not name=host:port")
    expect(left("bad name=h:1")).toContain("is not name=host:port")
  })

  it("reads a runner address", () => {
    expect(parseHostPort("127.0.0.1:34431")).toEqual(Either.right({ host: "127.0.0.1", port: 34431 }))
    expect(Either.isLeft(parseHostPort("34431"))).toBe(true)
    expect(Either.isLeft(parseHostPort("h:0"))).toBe(true)
  })
})
