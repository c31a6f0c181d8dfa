/**
 * The chart page (`GET /`, `GET /chart`) and its assets (`GET /chart/<file>`), served from the esbuild
 * output in `dist/chart` (`npm run build:chart`) — bundled at build time so the page works offline, with
 * no CDN. The files are read once and kept in memory; only names found in that directory are ever
 * served (a lookup table, not a path join, so `..` or encoded separators cannot reach other files).
 * A missing build is a 503 envelope that says how to build it, retried on the next request.
 */
import { FileSystem, HttpApiBuilder, HttpServerRequest, HttpServerResponse, Path } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { Effect, Layer, Option, Ref } from "effect"
import { createHash } from "node:crypto"
import { fileURLToPath } from "node:url"
import { failureBody } from "../contract/envelope.ts"

/** `dist/chart` of this package: src/http/ → package root, whatever the working directory. */
export const DEFAULT_CHART_DIR = fileURLToPath(new URL("../../dist/chart", import.meta.url))

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8"
}

/** Same-origin only: the page talks to this server and loads nothing from elsewhere. Inline styles are
 * allowed because lightweight-charts positions its canvases with style attributes. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

interface Asset {
  readonly body: Uint8Array
  readonly contentType: string
  readonly etag: string
}

type Assets = ReadonlyMap<string, Asset>

const notBuilt = (dir: string) =>
  HttpServerResponse.unsafeJson(
    failureBody({
      code: "CHART_NOT_BUILT",
      message: "The chart page is not built: run `npm run build:chart` (npm start and npm test do it for you)",
      details: { directory: dir }
    }),
    { status: 503 }
  )

const notFound = (name: string) =>
  HttpServerResponse.unsafeJson(
    failureBody({ code: "NOT_FOUND", message: `No chart asset ${JSON.stringify(name.slice(0, 200))}`, details: null }),
    { status: 404 }
  )

/** Every regular file under `dir`, keyed by its `/`-separated relative path. */
const readAssets = (dir: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const names = yield* fs.readDirectory(dir, { recursive: true })
    const assets = new Map<string, Asset>()
    for (const name of names) {
      const full = path.join(dir, name)
      const info = yield* fs.stat(full)
      if (info.type !== "File") continue
      const body = yield* fs.readFile(full)
      assets.set(name.split(path.sep).join("/"), {
        body,
        contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? "application/octet-stream",
        etag: `"${createHash("sha1").update(body).digest("base64url")}"`
      })
    }
    // A directory without the page is as unusable as a missing one.
    return assets.has("index.html") ? Option.some<Assets>(assets) : Option.none<Assets>()
  }).pipe(Effect.orElseSucceed(() => Option.none<Assets>()))

export interface ChartRoutesOptions {
  /** Where the built page is (default: this package's `dist/chart`). */
  readonly dir?: string
}

export const chartRoutes = (options: ChartRoutesOptions = {}): Layer.Layer<never> => {
  const dir = options.dir ?? DEFAULT_CHART_DIR
  return HttpApiBuilder.Router.use((router) =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      // Filled by the first successful read; a failed read is not cached, so building later just works.
      const cache = yield* Ref.make(Option.none<Assets>())
      const assets = Effect.flatMap(Ref.get(cache), (cached) =>
        Option.isSome(cached)
          ? Effect.succeed(cached)
          : readAssets(dir).pipe(
            Effect.provideService(FileSystem.FileSystem, fs),
            Effect.provideService(Path.Path, path),
            Effect.tap((read) => Ref.set(cache, read))
          ))

      const serve = (name: string) =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const found = yield* assets
          if (Option.isNone(found)) return notBuilt(dir)
          const asset = found.value.get(name)
          if (asset === undefined) return notFound(name)
          const headers = {
            etag: asset.etag,
            // Unhashed file names: revalidate every time (cheap thanks to the ETag) so a rebuild is seen at once.
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
            ...(name.endsWith(".html") ? { "content-security-policy": CSP, "referrer-policy": "no-referrer" } : {})
          }
          if (request.headers["if-none-match"] === asset.etag) return HttpServerResponse.empty({ status: 304, headers })
          return HttpServerResponse.uint8Array(asset.body, { contentType: asset.contentType, headers })
        })

      const page = serve("index.html")
      yield* router.get("/", page)
      yield* router.get("/chart", page)
      yield* router.get(
        "/chart/*",
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
          const pathname = request.url.split("?")[0] ?? ""
          const name = pathname.slice("/chart/".length)
          return serve(name === "" ? "index.html" : name)
        })
      )
    })
  ).pipe(Layer.provide(Layer.merge(NodeFileSystem.layer, NodePath.layer)))
}

/** The page from `dist/chart`, for `serverLayer({ routes: ChartRoutes })`. */
export const ChartRoutes: Layer.Layer<never> = chartRoutes()
