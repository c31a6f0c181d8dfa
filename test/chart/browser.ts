/**
 * Support for the chart's browser tests: the system Chromium driven by playwright-core, a test server
 * with the chart routes that lives for a whole `describe` (one scope, closed in afterAll), and the page
 * hooks the tests read (`window.ktrdrChart`).
 */
import { Effect, Exit, Scope } from "effect"
import { existsSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { chromium, type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll } from "vitest"
import { buildChart } from "../../scripts/build-chart.ts"
import { chartRoutes } from "../../src/http/chartRoutes.ts"
import { startServer, type TestServer, type TestServerOptions } from "../http/support.ts"

export const CHROMIUM = process.env["KTRDR_CHROMIUM"] ?? "/usr/bin/chromium"
export const chromiumAvailable = existsSync(CHROMIUM)
export const INSTALL_HINT =
  `Chromium not found at ${CHROMIUM}: install it with \`apt-get install chromium\` (Debian) ` +
  "or set KTRDR_CHROMIUM to a Chromium binary"

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"], headless: true })

/** The page bundle, built once per test file from the current sources into a temp dir. */
export const buildOnce = async () => {
  const dir = await mkdtemp(join(tmpdir(), "ktrdr-chart-e2e-"))
  await buildChart(dir)
  return { dir, dispose: () => rm(dir, { recursive: true, force: true }) }
}

export interface LiveServer extends TestServer {
  readonly close: () => Promise<void>
}

/** A server (simulator + core + API + chart) outliving one test; `close` releases all of it. */
export const liveServer = async (chartDir: string, o: TestServerOptions = {}): Promise<LiveServer> => {
  const scope = Effect.runSync(Scope.make())
  const s = await Effect.runPromise(
    Scope.extend(startServer({ ...o, server: { ...o.server, routes: chartRoutes({ dir: chartDir }) } }), scope)
  )
  return { ...s, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

/** JSON over HTTP from the test (not the page), with an optional token. */
export const api = async (
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string } = {}
) => {
  const res = await fetch(`${baseUrl}${path}`, {
    method: init.method ?? "GET",
    headers: {
      "content-type": "application/json",
      ...(init.token === undefined ? {} : { authorization: `Bearer ${init.token}` })
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) })
  })
  return { status: res.status, json: (await res.json()) as any }
}

/** What `window.ktrdrChart` exposes (see src/chart/main.ts). */
export interface ChartHooks {
  readonly ready: boolean
  readonly renders: number
  readonly candles: number
  readonly volume: number
  readonly markers: number
  readonly pointCount: number | null
  readonly series: string | null
  readonly gaps: { unexpected: number; closure: number; expected: number; missingBars: number } | null
  readonly timeMode: string
  readonly firstBarChartTime: number | null
  readonly markerTexts: ReadonlyArray<string>
  readonly load: {
    operationId: string | null
    status: string
    percentage: number
    maxPercentage: number
    failureCode: string | null
    events: number
  }
  readonly bannerCode: string | null
}

export const hooks = (page: Page): Promise<ChartHooks> =>
  page.evaluate(() => {
    const h = (globalThis as unknown as { ktrdrChart: ChartHooks }).ktrdrChart
    return JSON.parse(JSON.stringify({
      ready: h.ready,
      renders: h.renders,
      candles: h.candles,
      volume: h.volume,
      markers: h.markers,
      pointCount: h.pointCount,
      series: h.series,
      gaps: h.gaps,
      timeMode: h.timeMode,
      firstBarChartTime: h.firstBarChartTime,
      markerTexts: h.markerTexts,
      load: h.load,
      bannerCode: h.bannerCode
    })) as ChartHooks
  })

/**
 * Waits until `check` holds for the page's hooks. Polled from the test through `page.evaluate`: string
 * predicates would need `eval` in the page, which its Content-Security-Policy (rightly) forbids.
 */
export const waitFor = async (page: Page, check: (h: ChartHooks) => boolean, timeout = 90_000): Promise<ChartHooks> => {
  const deadline = Date.now() + timeout
  let last: ChartHooks | undefined
  for (;;) {
    const ready = await page.evaluate(() => (globalThis as { ktrdrChart?: unknown }).ktrdrChart !== undefined)
    if (ready) {
      last = await hooks(page)
      if (check(last)) return last
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${check.toString()}; last state: ${JSON.stringify(last)}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/**
 * Types a symbol and leaves the field with Tab, as a keyboard user would: that commits it (`change`) and
 * closes the suggestion list, whose popup would otherwise swallow the next click.
 */
export const typeSymbol = async (page: Page, symbol: string) => {
  await page.getByLabel("Symbol", { exact: true }).fill(symbol)
  await page.getByLabel("Symbol", { exact: true }).press("Tab")
}

/** Picks a series in the form and presses Show. */
export const pick = async (page: Page, p: { symbol: string; timeframe: string; start: string; end: string }) => {
  await typeSymbol(page, p.symbol)
  await page.getByLabel("Timeframe").selectOption(p.timeframe)
  await page.getByLabel("From (UTC)").fill(p.start)
  await page.getByLabel("To (UTC, exclusive)").fill(p.end)
  await page.getByRole("button", { name: "Show" }).click()
}

/**
 * A freshly built page, a browser and a server + simulator for one describe block, closed after it;
 * `seed` runs once the server is up (e.g. loads the bars the tests chart).
 */
export const useChartStack = (o: TestServerOptions = {}, seed?: (server: LiveServer) => Promise<void>) => {
  let browser: Browser | undefined
  let bundle: Awaited<ReturnType<typeof buildOnce>> | undefined
  let server: LiveServer | undefined
  beforeAll(async () => {
    bundle = await buildOnce()
    browser = await launchBrowser()
    server = await liveServer(bundle.dir, o)
    if (seed) await seed(server)
  }, 180_000)
  afterAll(async () => {
    await server?.close()
    await browser?.close()
    await bundle?.dispose()
  }, 180_000)
  return { browser: () => browser!, server: () => server! }
}
