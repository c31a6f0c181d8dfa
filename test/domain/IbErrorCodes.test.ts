import { describe, expect, it } from "vitest"
import { classifyIbError, isInformational } from "../../src/domain/IbErrorCodes.ts"
import { Text } from "../../src/sim/protocol.ts"

describe("IB error classification", () => {
  it("splits 162 by the texts the gateway sends", () => {
    expect(classifyIbError(162, Text.pacing)).toEqual({ category: "pacing", retryable: true })
    expect(classifyIbError(162, Text.noData("AAPL", "SMART", "TRADES"))).toEqual({
      category: "no-data",
      retryable: false
    })
    expect(classifyIbError(162, Text.cancelled(28))).toEqual({ category: "cancelled", retryable: false })
    expect(classifyIbError(162, Text.noMarketData("EUR", "CASH", "IDEALPRO", 60)).category).toBe("permission")
    expect(
      classifyIbError(162, "Historical Market Data Service error message:No market data permissions for NYSE STK")
        .category
    ).toBe("permission")
  })

  it("maps codes to categories with retryability", () => {
    expect(classifyIbError(200, Text.noSecurityDefinition)).toEqual({
      category: "no-security-definition",
      retryable: false
    })
    expect(classifyIbError(321, Text.invalidBarSize)).toEqual({ category: "validation", retryable: false })
    expect(classifyIbError(10314, Text.invalidEndDate).category).toBe("validation")
    expect(classifyIbError(326, Text.clientIdInUse)).toEqual({ category: "client-id-in-use", retryable: true })
    expect(classifyIbError(502, "connect ECONNREFUSED 127.0.0.1:4002")).toEqual({
      category: "connectivity",
      retryable: true
    })
    expect(classifyIbError(1100, Text.connectivityLost).retryable).toBe(true)
    expect(classifyIbError(354, "Requested market data is not subscribed.")).toEqual({
      category: "permission",
      retryable: false
    })
    expect(classifyIbError(100, "Max rate of messages per second has been exceeded.").category).toBe("pacing")
  })

  it("never treats notices as failures", () => {
    for (const code of [165, 2104, 2106, 2158, 2174, 2188, 10167]) expect(isInformational(code)).toBe(true)
    expect(isInformational(2105)).toBe(false)
    expect(isInformational(2110)).toBe(false)
    expect(isInformational(162, "Warning: something")).toBe(true)
    expect(isInformational(162, Text.pacing)).toBe(false)
    expect(isInformational(200)).toBe(false)
  })
})
