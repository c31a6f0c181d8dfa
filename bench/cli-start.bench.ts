/**
 * Cold start of the `ktrdr` bin: wall time of whole processes, `ktrdr --version` and
 * `ktrdr data show AAPL -t 1h` against a running server (remote mode), each as a ratio to `node -e 0`
 * measured in the same run, interleaved, median of ROUNDS. Goal: data show ≤ 2.0 × node.
 * Notes break the data-show time down with the bin's KTRDR_TIMING marks: Node's own boot (the
 * baseline), evaluating the bundle's modules, argument parsing, importing the client chunk and
 * deriving the client, the request, and rendering + exit.
 *
 * What moved the figure (data show, same machine): unbundled tsx ≈ 2.3 s; ESM bundle with splitting
 * ≈ 0.50 s; + deep imports instead of barrels (the client chunk no longer carries Swagger UI's 1.9 MB)
 * ≈ 0.35 s; + minified, one HttpApiClient group derived on first use instead of all, no Intl (its ICU
 * load cost 12 ms), exiting once stdout is flushed instead of waiting 20–40 ms for the loop to drain
 * ≈ 0.30–0.33 s. Tried and not shipped: a CJS bundle with a V8 code cache (every module then evaluates
 * at start: no gain); a V8 startup snapshot (`node --snapshot-blob`, built once Intl was made lazy):
 * ≈ 15 % faster, because what remains is running cold Effect code (parsing, layers, schema decoding),
 * not loading it — and it needs an absolute-path `env -S node --snapshot-blob …` shebang and an 8 MB
 * blob tied to the exact node binary.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { buildCli } from "../scripts/build-cli.ts"
import { fmt, median, type Bench } from "./harness.ts"

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 21)
const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const bin = join(root, "dist", "ktrdr.mjs")

const cleanEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("KTRDR_")) env[k] = v
  return { ...env, ...extra }
}

/** Wall time of one process from spawn to exit, ms. */
const wall = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, { env, encoding: "utf8" })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`)
  return { ms, stderr: r.stderr }
}

/** `ktrdr serve --sim` as its own process; resolves with its URL once the gateway is ready. */
const startServer = async (dataDir: string) => {
  const child = spawn(process.execPath, [bin, "serve", "--sim", "--port", "0"], {
    env: cleanEnv({ KTRDR_DATA_DIR: dataDir, KTRDR_LOG_LEVEL: "Info" }),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let out = ""
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = out.match(/Listening on (http:\/\/[\d.:]+)/)
      if (m && out.includes("IB: ready")) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
  })
  return {
    url,
    stop: () =>
      new Promise<void>((r) => {
        child.once("exit", () => r())
        child.kill("SIGTERM")
      })
  }
}

const bench: Bench = {
  name: "cli-start: cold `ktrdr data show AAPL -t 1h` (remote) vs `node -e 0`",
  run: async () => {
    await buildCli()
    const dataDir = await mkdtemp(join(tmpdir(), "ktrdr-bench-cli-"))
    const server = await startServer(dataDir)
    try {
      const env = cleanEnv({ KTRDR_API_URL: server.url })
      wall([bin, "data", "load", "AAPL", "-t", "1h", "-q"], env)
      // Warm the OS file cache and the server once; then interleave so drift hits all three alike.
      for (const args of [["-e", "0"], [bin, "--version"], [bin, "data", "show", "AAPL", "-t", "1h"]]) wall(args, env)
      const node: Array<number> = []
      const version: Array<number> = []
      const show: Array<number> = []
      const marks: Array<Record<string, number>> = []
      for (let i = 0; i < ROUNDS; i++) {
        node.push(wall(["-e", "0"], env).ms)
        version.push(wall([bin, "--version"], env).ms)
        show.push(wall([bin, "data", "show", "AAPL", "-t", "1h"], env).ms)
        const timed = wall([bin, "data", "show", "AAPL", "-t", "1h"], { ...env, KTRDR_TIMING: "1" })
        const line = timed.stderr.match(/KTRDR_TIMING (\{.*\})/)
        if (line) marks.push({ ...JSON.parse(line[1]!), exit: timed.ms })
      }
      const base = median(node)
      const m = (k: string) => median(marks.map((x) => x[k] ?? Number.NaN))
      const phases: ReadonlyArray<readonly [string, number]> = [
        ["node boot (node -e 0)", base],
        ["evaluate the bundle's modules", m("modules") - base],
        ["parse arguments", m("parsed") - m("modules")],
        ["import the client chunk", m("client-chunk") - m("parsed")],
        ["derive the HttpApiClient + agent", m("client-ready") - m("client-chunk")],
        ["GET /data/AAPL/1h (+ decode)", m("response") - m("client-ready")],
        ["render, close, exit", m("exit") - m("response")]
      ]
      const ratio = median(show) / base
      return {
        name: bench.name,
        figure: { label: `ktrdr data show AAPL -t 1h, median of ${ROUNDS}`, value: median(show), unit: "ms" },
        baseline: { label: "node -e 0", value: base, unit: "ms" },
        ratio,
        goal: "≤ 2.0",
        pass: ratio <= 2.0,
        notes: [
          `ktrdr --version: ${fmt(median(version))} ms = ${fmt(median(version) / base)} × node`,
          "where data show's time goes (medians of the KTRDR_TIMING marks):",
          ...phases.map(([label, ms]) => `  ${label.padEnd(36)} ${fmt(ms).padStart(6)} ms`)
        ]
      }
    } finally {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
