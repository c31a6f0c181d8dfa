/**
 * The chart routes over HTTP (no browser): the page and its assets with the right types, only files of
 * the build directory (no traversal), and a 503 that says how to build when the build is missing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { request as httpRequest } from "node:http"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { buildChart } from "../../scripts/build-chart.ts"
import { chartRoutes } from "../../src/http/chartRoutes.ts"
import { raw, startServer } from "../http/support.ts"

const builtDir = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await mkdtemp(join(tmpdir(), "ktrdr-chart-"))
    await buildChart(dir)
    return dir
  }),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

/** The request line exactly as given: fetch would normalise `..` away before sending. */
const rawPath = (port: number, path: string) =>
  Effect.async<{ status: number; body: string }>((resume) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, method: "GET" }, (res) => {
      let body = ""
      res.setEncoding("utf8")
      res.on("data", (c: string) => (body += c))
      res.on("end", () => resume(Effect.succeed({ status: res.statusCode ?? 0, body })))
    })
    req.on("error", (e) => resume(Effect.die(e)))
    req.end()
  })

describe("chart routes", () => {
  it.live("serve the page at / and /chart and its assets with their content types", () =>
    Effect.gen(function*() {
      const dir = yield* builtDir
      const s = yield* startServer({ server: { routes: chartRoutes({ dir }) } })
      const html = yield* Effect.promise(() => readFile(join(dir, "index.html"), "utf8"))
      for (const path of ["/", "/chart", "/chart/"]) {
        const page = yield* raw(s.baseUrl, path)
        expect(page.status).toBe(200)
        expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
        expect(page.text).toBe(html)
        expect(page.headers.get("content-security-policy")).toContain("default-src 'self'")
      }
      const js = yield* raw(s.baseUrl, "/chart/main.js")
      expect(js.status).toBe(200)
      expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
      // lightweight-charts is inside the bundle, not fetched from a CDN.
      expect(js.text).toContain("lightweight-charts")
      expect(js.text).not.toMatch(/import\s*[^;]*from\s*["']https?:/)
      const css = yield* raw(s.baseUrl, "/chart/styles.css")
      expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8")
      // Every asset the page references exists and is same-origin.
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith("data:"))
      expect(refs.sort()).toEqual(["/chart/main.js", "/chart/styles.css"])
      // ETag revalidation.
      const etag = js.headers.get("etag")
      expect(etag).toMatch(/^".+"$/)
      const again = yield* raw(s.baseUrl, "/chart/main.js", { headers: { "if-none-match": etag! } })
      expect(again.status).toBe(304)
      // The API beside it is untouched.
      expect((yield* raw(s.baseUrl, "/api/v1/health")).status).toBe(200)
    }).pipe(Effect.scoped))

  it.live("serve nothing outside the build directory", () =>
    Effect.gen(function*() {
      const dir = yield* builtDir
      const s = yield* startServer({ server: { routes: chartRoutes({ dir }) } })
      const probes = [
        "/chart/../package.json",
        "/chart/../../package.json",
        "/chart/..%2F..%2Fpackage.json",
        "/chart/%2e%2e/%2e%2e/package.json",
        "/chart/main.js/../../../package.json",
        "/chart//etc/passwd",
        "/chart/%2Fetc%2Fpasswd",
        "/chart/..\\..\\package.json",
        "/chart/missing.js"
      ]
      for (const path of probes) {
        const r = yield* rawPath(s.port, path)
        expect(r.status, path).toBe(404)
        expect(r.body, path).not.toContain("\"dependencies\"")
        expect(r.body, path).not.toContain("root:")
        expect(JSON.parse(r.body), path).toMatchObject({ success: false, data: null })
      }
      const missing = yield* raw(s.baseUrl, "/chart/missing.js")
      expect(missing.json).toMatchObject({ success: false, error: { code: "NOT_FOUND" } })
    }).pipe(Effect.scoped))

  it.live("answer 503 with how to build while the build is missing, and serve it once built", () =>
    Effect.gen(function*() {
      const parent = yield* Effect.acquireRelease(
        Effect.promise(() => mkdtemp(join(tmpdir(), "ktrdr-chart-missing-"))),
        (d) => Effect.promise(() => rm(d, { recursive: true, force: true }))
      )
      const dir = join(parent, "chart")
      const s = yield* startServer({ server: { routes: chartRoutes({ dir }) } })
      for (const path of ["/", "/chart", "/chart/main.js"]) {
        const r = yield* raw(s.baseUrl, path)
        expect(r.status, path).toBe(503)
        expect(r.json).toMatchObject({ success: false, data: null, error: { code: "CHART_NOT_BUILT" } })
        expect(r.json.error.message).toContain("npm run build:chart")
      }
      // A failed read is not cached: building while the server runs is enough.
      yield* Effect.promise(() => buildChart(dir))
      const page = yield* raw(s.baseUrl, "/chart")
      expect(page.status).toBe(200)
      expect(page.text).toContain("<title>ktrdr")
    }).pipe(Effect.scoped))
})
