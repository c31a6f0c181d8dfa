/**
 * The chart page's live gateway badge (issue 11): it follows the session over /ib/events — Ready, then
 * "reconnecting — attempt n, next try in s" while the gateway refuses, then Ready again — and says what
 * /health says. Skips without Chromium, except under CI.
 */
import { describe, expect, it } from "vitest"
import { Duration } from "effect"
import { api, chromiumAvailable, INSTALL_HINT, useChartStack } from "./browser.ts"

if (!chromiumAvailable) {
  if (process.env["CI"] === "true") {
    it("Chromium is installed for the browser tests", () => {
      throw new Error(INSTALL_HINT)
    })
  } else {
    console.warn(`gateway badge browser test SKIPPED — ${INSTALL_HINT}`)
    describe.skip(`gateway badge in Chromium — SKIPPED: ${INSTALL_HINT}`, () => {
      it("follows the gateway", () => undefined)
    })
  }
} else {
  describe("the chart page's gateway badge", () => {
    const stack = useChartStack({ ib: { reconnectBase: Duration.millis(500), reconnectCap: Duration.seconds(2) } })

    it("shows the session's state live, as /health reports it", async () => {
      const context = await stack.browser().newContext()
      const page = await context.newPage()
      const badge = page.locator("#gateway-badge")
      const base = stack.server().baseUrl
      try {
        await page.goto(`${base}/chart`)
        await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toBe("Gateway: Ready (simulated)")
        expect(await badge.getAttribute("data-state")).toBe("ready")
        expect((await api(base, "/api/v1/health")).json.gateway).toMatchObject({ ready: true, state: "Ready" })

        await stack.server().sim.setFaults({ refuseConnections: true, dropConnections: true })
        await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toMatch(
          /^Gateway: reconnecting — attempt [1-9]\d*, next try in \d+ s \(simulated\)$/
        )
        expect(await badge.getAttribute("data-state")).toBe("reconnecting")
        expect(await badge.getAttribute("title")).toContain("ECONNREFUSED")
        expect((await api(base, "/api/v1/health")).json.gateway).toMatchObject({
          ready: false,
          state: "Reconnecting",
          farms: { hmds: "unknown", connectivity: "unknown" }
        })

        await stack.server().sim.setFaults({ refuseConnections: false })
        await expect.poll(() => badge.textContent(), { timeout: 30_000 }).toBe("Gateway: Ready (simulated)")
      } finally {
        await context.close()
      }
    }, 120_000)
  })
}
