/**
 * The chart page end to end in headless Chromium, against a real server over the simulator: pickers,
 * candles + volume checked against the API's point_count, gap markers, the UTC/exchange toggle, a load
 * followed to 100 % over SSE, a cancelled load, the IB-200 banner, and the bearer-token flow.
 * Under CI a missing Chromium fails; elsewhere these tests skip with how to install it.
 */
import { describe, expect, it } from "vitest"
import { mkdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Browser } from "playwright-core"
import { Option, Redacted } from "effect"
import { api, chromiumAvailable, hooks, INSTALL_HINT, pick, typeSymbol, useChartStack, waitFor } from "./browser.ts"

const ARTIFACTS = fileURLToPath(new URL("../../test-artifacts/", import.meta.url))
const AAPL_1H = { symbol: "AAPL", timeframe: "1h", start: "2025-01-02", end: "2025-03-01" }
const seed = { symbol: "AAPL", timeframe: "1h", mode: "full", start_date: AAPL_1H.start, end_date: AAPL_1H.end }
/** Seeded around a hole (15–16 Jan 2025, two trading days): an unexpected gap for the chart to highlight. */
const seedWithHole = [
  { ...seed, end_date: "2025-01-15" },
  { ...seed, start_date: "2025-01-17" }
]
const LONG = 180_000

const pointCount = async (baseUrl: string, start: string, end: string, token?: string) => {
  const r = await api(
    baseUrl,
    `/api/v1/data/AAPL/1h?start_date=${start}&end_date=${end}`,
    token === undefined ? {} : { token }
  )
  expect(r.status).toBe(200)
  return r.json.data.metadata.point_count as number
}

/** A page that records failed scripts and any request leaving the server (the page must work offline). */
const openPage = async (browser: Browser, baseUrl: string) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const foreign: string[] = []
  const errors: string[] = []
  await page.route("**/*", (route) => {
    const url = route.request().url()
    if (url.startsWith(baseUrl) || url.startsWith("data:")) return route.continue()
    foreign.push(url)
    return route.abort()
  })
  page.on("pageerror", (e) => errors.push(String(e)))
  return { page, foreign, errors, close: () => context.close() }
}

if (!chromiumAvailable) {
  if (process.env["CI"] === "true") {
    it("Chromium is installed for the browser tests", () => {
      throw new Error(INSTALL_HINT)
    })
  } else {
    // Printed as well as put in the skipped suite's name: the default reporter hides skipped names.
    console.warn(`chart browser tests SKIPPED — ${INSTALL_HINT}`)
    describe.skip(`chart page in Chromium — SKIPPED: ${INSTALL_HINT}`, () => {
      it("renders, loads, cancels, reports errors", () => undefined)
    })
  }
} else {
  describe("chart page in headless Chromium", () => {
    const stack = useChartStack({}, async (server) => {
      for (const body of seedWithHole) {
        const seeded = await api(server.baseUrl, "/api/v1/data/load", { method: "POST", body })
        expect(seeded.status).toBe(200)
        expect(seeded.json.data.status).toBe("success")
      }
    })

    it("picks AAPL 1h and draws exactly the API's bars as candles and volume, with gap markers", async () => {
      const { page, foreign, errors, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(`${stack.server().baseUrl}/chart`)
        await waitFor(page, (h) => h.ready)
        // The pickers come from /symbols and /timeframes.
        expect(
          await page.locator("#symbol-list option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))
        ).toEqual(["AAPL"])
        const tfs = await page.locator("#timeframe option").evaluateAll((os) =>
          os.map((o) => (o as HTMLOptionElement).value)
        )
        expect(tfs).toContain("1h")
        expect(tfs).toContain("1d")

        await pick(page, AAPL_1H)
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.candles > 0 && h.gaps !== null)
        const h = await hooks(page)
        const expected = await pointCount(stack.server().baseUrl, AAPL_1H.start, AAPL_1H.end)
        expect(expected).toBeGreaterThan(200)
        expect(h.pointCount).toBe(expected)
        expect(h.candles).toBe(expected)
        expect(h.volume).toBe(expected)
        // The seeded hole is the one unexpected gap (listed and highlighted); nights and weekends are
        // expected gaps in 1h stock data. Each gap is one marker on the chart.
        expect(h.gaps).toMatchObject({ unexpected: 1, closure: 0, missingBars: 14 })
        expect(h.gaps!.expected).toBeGreaterThan(0)
        expect(h.markers).toBe(h.gaps!.unexpected + h.gaps!.closure + h.gaps!.expected)
        expect(await page.locator("#gap-summary").textContent()).toMatch(
          /^Gaps: 1 unexpected \(14 bars missing\), \d+ expected/
        )
        const listed = page.locator("#gap-list li.gap-unexpected")
        expect(await listed.count()).toBe(1)
        expect(await listed.textContent()).toContain("2025-01-15")
        expect(await page.locator("#chart").getAttribute("aria-label")).toContain(
          `AAPL 1h candlestick chart with volume: ${expected} bars`
        )
        // Two panes of canvases: candles and volume.
        expect(await page.locator("#chart canvas").count()).toBeGreaterThanOrEqual(2)

        await mkdir(ARTIFACTS, { recursive: true })
        await page.screenshot({ path: `${ARTIFACTS}chart-aapl-1h.png`, fullPage: true })
        expect(foreign).toEqual([])
        expect(errors).toEqual([])
      } finally {
        await close()
      }
    }, LONG)

    it("a gap at the chart's edge keeps its arrow but no label that would be cut off; the list names it", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        // The range starts inside the seeded hole (15–16 Jan): its marker sits on the very first bar drawn.
        await page.goto(`${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=2025-01-15&end=2025-01-25`)
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.candles > 0 && h.gaps !== null)
        const h = await hooks(page)
        expect(h.gaps).toMatchObject({ unexpected: 1 })
        // Expected gaps are unlabelled dots; the one unexpected gap is at the edge, so every label is empty.
        expect(h.markerTexts.every((t) => t === "")).toBe(true)
        expect(await page.locator("#gap-list li.gap-unexpected").count()).toBe(1)
        expect(await page.locator("#gap-list li.gap-unexpected").textContent()).toContain("bars missing")
        await mkdir(ARTIFACTS, { recursive: true })
        await page.screenshot({ path: `${ARTIFACTS}chart-edge-gap.png` })
        // Inside the chart the label stays (the first test's range puts the hole mid-chart).
        await page.goto(
          `${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=${AAPL_1H.start}&end=${AAPL_1H.end}`
        )
        await waitFor(page, (x) => x.series === "AAPL 1h" && x.candles > 200 && x.gaps !== null)
        expect((await hooks(page)).markerTexts).toContain("gap: 14 missing")
      } finally {
        await close()
      }
    }, LONG)

    it("switches between UTC and the exchange's time zone", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(
          `${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=${AAPL_1H.start}&end=${AAPL_1H.end}`
        )
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.candles > 0)
        const utc = await hooks(page)
        expect(utc.timeMode).toBe("utc")
        const symbols = await api(stack.server().baseUrl, "/api/v1/symbols")
        const tz: string = symbols.json.data[0].trading_hours.timezone
        expect(await page.locator("#exchange-tz").textContent()).toBe(`(${tz})`)
        await page.getByLabel(/Exchange/).check()
        await waitFor(page, (h) => h.timeMode === "exchange")
        const exchange = await hooks(page)
        // The first bar moves by the zone's offset at that instant (New York in January: −5 h).
        const firstUtcMs = utc.firstBarChartTime! * 1000
        const wall = new Date(firstUtcMs).toLocaleString("sv-SE", { timeZone: tz }).replace(" ", "T") + "Z"
        expect(exchange.firstBarChartTime! - utc.firstBarChartTime!).toBe((Date.parse(wall) - firstUtcMs) / 1000)
        expect(exchange.firstBarChartTime).not.toBe(utc.firstBarChartTime)
        expect(exchange.candles).toBe(utc.candles)
        expect(await page.locator("#chart-status").textContent()).toContain(tz)
        // The time axis in exchange time (day labels at session opens, whole hours between): for review.
        await mkdir(ARTIFACTS, { recursive: true })
        await page.screenshot({ path: `${ARTIFACTS}chart-axis-exchange.png` })
      } finally {
        await close()
      }
    }, LONG)

    it("runs a load, shows its progress up to 100 % and redraws the chart with the new bars", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(
          `${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=${AAPL_1H.start}&end=2025-04-01`
        )
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.renders >= 1)
        const before = await hooks(page)
        expect(before.candles).toBe(await pointCount(stack.server().baseUrl, AAPL_1H.start, "2025-04-01"))
        await page.getByLabel("Mode").selectOption("full")
        await page.getByRole("button", { name: "Load", exact: true }).click()
        await waitFor(page, (h) => h.load.status === "completed")
        const done = await hooks(page)
        expect(done.load.operationId).toMatch(/^op_data_load_/)
        expect(done.load.maxPercentage).toBe(100)
        expect(done.load.events).toBeGreaterThanOrEqual(2)
        expect(await page.locator("#load-progress").evaluate((p) => (p as HTMLProgressElement).value)).toBe(100)
        expect(await page.locator("#load-status").textContent()).toMatch(/^Completed: [\d,]+ bars fetched/)
        // The chart refreshes by itself once the load has completed.
        const after = await pointCount(stack.server().baseUrl, AAPL_1H.start, "2025-04-01")
        expect(after).toBeGreaterThan(before.candles)
        const redrawn = await waitFor(page, (h) => h.renders > before.renders && h.candles === after)
        // The load filled the seeded hole: no unexpected gap is left.
        expect(before.gaps!.unexpected).toBe(1)
        expect(redrawn.gaps!.unexpected).toBe(0)
        const op = await api(stack.server().baseUrl, `/api/v1/operations/${done.load.operationId}`)
        expect(op.json.data.status).toBe("completed")
        expect(await page.getByRole("button", { name: "Load", exact: true }).isEnabled()).toBe(true)
      } finally {
        await close()
      }
    }, LONG)

    it("shows the IB-200 banner when the symbol is unknown, and clears the previous series' chart", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(`${stack.server().baseUrl}/chart`)
        await waitFor(page, (h) => h.ready && h.renders >= 1)
        await typeSymbol(page, "QZXW")
        await page.getByLabel("Mode").selectOption("tail")
        // Keyboard only: focus the button and press Enter.
        await page.getByRole("button", { name: "Load", exact: true }).focus()
        await page.keyboard.press("Enter")
        await waitFor(page, (h) => h.load.status === "failed")
        const banner = page.getByRole("alert")
        await expect(banner.isVisible()).resolves.toBe(true)
        expect(await banner.textContent()).toContain("IB-200")
        expect((await hooks(page)).bannerCode).toBe("IB-200")
        expect(await page.locator("#load-status").textContent()).toBe("Failed (IB-200).")
        // AAPL's candles and axes do not stay under QZXW's name.
        await waitFor(page, (h) => h.candles === 0 && h.series === null)
        expect(await page.locator("#chart").getAttribute("class")).toContain("empty")
        expect(await page.locator("#chart-status").textContent()).toBe("No QZXW 1h bars to show: the load failed.")
        expect(await page.locator("#gap-summary").textContent()).toBe("")
        await mkdir(ARTIFACTS, { recursive: true })
        await page.screenshot({ path: `${ARTIFACTS}chart-failed-load.png` })
        // Dismissable from the keyboard.
        await page.getByRole("button", { name: "Dismiss error" }).focus()
        await page.keyboard.press("Enter")
        await expect(banner.isVisible()).resolves.toBe(false)
      } finally {
        await close()
      }
    }, LONG)
  })

  describe("chart page: cancelling a long load", () => {
    // Slow gateway answers keep the backfill running while the test presses Cancel.
    const stack = useChartStack({ sim: { latencyMs: 200 } })

    it("cancels a running backfill from the page and reports it cancelled", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(`${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=2015-01-01&end=2025-03-01`)
        await waitFor(page, (h) => h.ready)
        await page.getByLabel("Mode").selectOption("backfill")
        await page.getByRole("button", { name: "Load", exact: true }).click()
        // Wait until segments are being fetched, so the cancel interrupts real work.
        await waitFor(page, (h) => h.load.status === "running" && h.load.percentage > 10)
        const cancel = page.getByRole("button", { name: "Cancel load" })
        expect(await cancel.isEnabled()).toBe(true)
        await cancel.click()
        await waitFor(page, (h) => h.load.status === "cancelled")
        const h = await hooks(page)
        expect(h.load.maxPercentage).toBeLessThan(100)
        expect(await page.locator("#load-status").textContent()).toMatch(/^Cancelled at \d+%/)
        const op = await api(stack.server().baseUrl, `/api/v1/operations/${h.load.operationId}`)
        expect(op.json.data.status).toBe("cancelled")
        expect(op.json.data.error_message).toContain("Cancelled from the chart page")
        expect(await page.getByRole("button", { name: "Load", exact: true }).isEnabled()).toBe(true)
        expect(await cancel.isEnabled()).toBe(false)
        expect(h.bannerCode).toBeNull()
      } finally {
        await close()
      }
    }, LONG)
  })

  describe("chart page with an API token", () => {
    const TOKEN = "chart-test-token"
    const stack = useChartStack({ api: { token: Option.some(Redacted.make(TOKEN)) } }, async (server) => {
      const seeded = await api(server.baseUrl, "/api/v1/data/load", { method: "POST", body: seed, token: TOKEN })
      expect(seeded.json.data.status).toBe("success")
    })

    it("asks for the token on 401, then charts and follows a load's SSE stream with it", async () => {
      const { page, close } = await openPage(stack.browser(), stack.server().baseUrl)
      try {
        await page.goto(
          `${stack.server().baseUrl}/chart?symbol=AAPL&timeframe=1h&start=${AAPL_1H.start}&end=${AAPL_1H.end}`
        )
        const dialog = page.getByRole("dialog", { name: "API token" })
        await dialog.waitFor({ state: "visible" })
        expect((await hooks(page)).bannerCode).toBe("UNAUTHORIZED")
        await page.getByLabel("Bearer token").fill(TOKEN)
        await page.getByLabel("Bearer token").press("Enter")
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.candles > 0)
        expect((await hooks(page)).candles).toBe(
          await pointCount(stack.server().baseUrl, AAPL_1H.start, AAPL_1H.end, TOKEN)
        )
        expect(await page.evaluate(() => sessionStorage.getItem("ktrdr.apiToken"))).toBe(TOKEN)

        // The progress stream needs the Authorization header too (no EventSource).
        await page.getByLabel("Mode").selectOption("tail")
        await page.getByRole("button", { name: "Load", exact: true }).click()
        await waitFor(page, (h) => h.load.status === "completed")
        expect((await hooks(page)).load.maxPercentage).toBe(100)

        // Entered once per tab: a reload keeps it.
        await page.reload()
        await waitFor(page, (h) => h.series === "AAPL 1h" && h.candles > 0)
        expect((await hooks(page)).bannerCode).toBeNull()
      } finally {
        await close()
      }
    }, LONG)
  })
}
