/**
 * Cold start of the `ktrdr` bin: wall time of whole processes, `ktrdr --version` and
 * `ktrdr data show AAPL -t 1h` against a running server (remote mode), each as a ratio to `node -e 0`
 * measured in the same run, interleaved, median of ROUNDS. The bin runs as a user runs it: through a
 * symlink (as npm links a bin), from another directory. Goals: data show ≤ 2.0 × node, --version ≤ 1.5 ×.
 * Also measured, for comparison: the same command through the ES-module bundle alone (the launcher's
 * route for serve/sim/--embedded, and what every command ran before the code cache), and with the code
 * cache missing, and without the `data show` lane (KTRDR_NO_SHOW_LANE=1: the full program). Notes break the
 * data-show time down with the bin's KTRDR_TIMING marks, through the lane and through the full program.
 *
 * What moved the figure (data show, same machine): unbundled tsx ≈ 2.3 s; ESM bundle with splitting
 * ≈ 0.50 s; + deep imports instead of barrels (the client chunk no longer carries Swagger UI's 1.9 MB)
 * ≈ 0.35 s; + minified, one HttpApiClient group derived on first use instead of all, no Intl (its ICU
 * load cost 12 ms), exiting once stdout is flushed instead of waiting 20–40 ms for the loop to drain
 * ≈ 0.30–0.33 s (3.95 × node). Then (issue 15, a loaded 2-core machine, CPU-time ratios): the start no
 * longer evaluates the simulator and luxon's zones, nor loads undici for a `FormData` check, nor TLS and
 * crypto for an unused https agent; and the commands that talk to a server run one CommonJS script with a
 * V8 code cache made by the build (ESM bundle 4.7–5.7 × → 3.2–3.4 ×); `--version` answers before
 * loading anything (3.0 × → 1.1–1.2 ×).
 * Then (issue 15, second pass): `data show` makes its one request over node:http through the endpoint's own
 * schemas and never loads the client derived from the whole contract (the derived client's request path and the
 * contract's schemas were ~30 ms); plain ASCII tables are drawn without cli-table3's layout engine; the terminal
 * (and with it stdin) is made only for a prompt; the bin is a CommonJS launcher (an ES-module entry starts Node's
 * ES-module loader, ~5 ms); package.json's version is inlined instead of loaded as a module.
 * Then (issue 15, the `data show` lane: 3.4–3.6 × → 1.56–1.71 ×, ~82 → 36–44 ms, load average 4–7): `data show`
 * first runs src/app/cliShow.ts, a 24 KB CommonJS script with its own code cache that evaluates neither Effect nor
 * @effect/cli (the full program's script, its parse and its client were ~38 ms): it reads a plain subset of the
 * command line, makes the GET over node:http, checks the body with plain shapes the build derives from the
 * contract's schemas, prints through the full program's own output code, writes to the file descriptors (making
 * process.stdout was ~4 ms) and declines everything else to the full program. effect/Schema in the lane, loaded
 * while the server worked, was measured first: 2.1–2.2 × (its evaluation, ~6.5 ms with the code cache, outlasted
 * the server's ~2 ms answer). What is left is mostly Node's: its boot (~17 ms to the first line of user code),
 * node:http's first request (~5 ms to connect and send), and its exit.
 * Measured and not shipped: a V8 startup snapshot (`node --build-snapshot`, the command tree and client in
 * the heap, node:http made lazy since it cannot load in the builder): deserializing its 8.5 MB heap alone
 * cost 2.0 × node, `data show` 3.6–3.7 × against 4.0 × for the code cache at the time, and it needs a
 * shell launcher and a crash-prone blob tied to the node binary (a mismatched blob exits 14; a damaged
 * one aborts V8). Larger semi-spaces (`--semi-space-growth-factor`, `--min-semi-space-size`): fewer
 * scavenges, no less time on this VM (fresh pages cost as much as the copying).
 */
import { spawn, spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { buildCli } from "../scripts/build-cli.ts"
import { fmt, median, type Bench } from "./harness.ts"

const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 21)
const root = join(dirname(fileURLToPath(import.meta.url)), "..")
/** The package's bin, as package.json names it (what npm links): dist/ktrdr.cjs. */
const bin = join(
  root,
  (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: { ktrdr: string } }).bin.ktrdr
)

/**
 * Both sides run as a user's shell would start them. NODE_EXTRA_CA_CERTS (set on these machines) makes every Node
 * process parse a CA bundle at boot, ~36 ms here: it would inflate `node -e 0` and flatter the ratio (1.9 with it,
 * 3.6 without, measured on the same build), so it is dropped, as are our own KTRDR_* settings.
 */
const cleanEnv = (extra: Record<string, string>) => {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KTRDR_") && k !== "NODE_EXTRA_CA_CERTS") env[k] = v
  }
  return { ...env, ...extra }
}

/** Wall time of one process from spawn to exit, ms: `node …args`, or an executable (a bin) when `exe` is given. */
const wall = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, exe: string = process.execPath, cwd?: string) => {
  const t0 = performance.now()
  const r = spawnSync(exe, args, { env, encoding: "utf8", ...(cwd ? { cwd } : {}) })
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
      // As npm installs a bin: a symlink, run from another directory.
      const elsewhere = join(dataDir, "elsewhere")
      await mkdir(elsewhere)
      const link = join(dataDir, "ktrdr")
      await symlink(bin, link)
      const ktrdr = (args: ReadonlyArray<string>, e = env) => wall(args, e, link, elsewhere)
      const esmEntry = (await readdir(join(root, "dist", "chunks"))).filter((f) => /^cliMain-\w+\.mjs$/.test(f))
      // The ES-module bundle's entry chunk of this build (the newest, if older builds' chunks linger).
      const esm = join(root, "dist", "chunks", esmEntry.sort((a, b) => a.localeCompare(b)).at(-1)!)
      const show = ["data", "show", "AAPL", "-t", "1h"]
      const mjsLauncher = join(root, "dist", "ktrdr.mjs")
      wall([bin, "data", "load", "AAPL", "-t", "1h", "-q"], env)
      const checked = ktrdr(show, { ...env, KTRDR_TIMING: "1" }).stderr
      if (!checked.includes("KTRDR_CODE_CACHE accepted (show)")) throw new Error(`code cache not accepted: ${checked}`)
      if (!/^KTRDR_TIMING .*"lane":1/m.test(checked)) throw new Error(`the data show lane did not answer: ${checked}`)
      const noLane = { ...env, KTRDR_NO_SHOW_LANE: "1" }
      // Warm the OS file cache and the server once; then interleave so drift hits all alike.
      wall(["-e", "0"], env)
      ktrdr(["--version"])
      ktrdr(show)
      ktrdr(show, noLane)
      wall([esm, ...show], env)
      const node: Array<number> = []
      const version: Array<number> = []
      const shown: Array<number> = []
      const fullShown: Array<number> = []
      const esmShown: Array<number> = []
      const mjsShown: Array<number> = []
      const noCache: Array<number> = []
      const marks: Array<Record<string, number>> = []
      const fullMarks: Array<Record<string, number>> = []
      const timed = (e: NodeJS.ProcessEnv, into: Array<Record<string, number>>) => {
        const t = ktrdr(show, { ...e, KTRDR_TIMING: "1" })
        const line = t.stderr.match(/KTRDR_TIMING (\{.*\})/)
        if (line) into.push({ ...JSON.parse(line[1]!), exit: t.ms })
      }
      for (let i = 0; i < ROUNDS; i++) {
        node.push(wall(["-e", "0"], env).ms)
        version.push(ktrdr(["--version"]).ms)
        shown.push(ktrdr(show).ms)
        fullShown.push(ktrdr(show, noLane).ms)
        esmShown.push(wall([esm, ...show], noLane).ms)
        mjsShown.push(wall([mjsLauncher, ...show], env).ms)
        noCache.push(ktrdr(show, { ...env, KTRDR_NO_CODE_CACHE: "1" }).ms)
        timed(env, marks)
        timed(noLane, fullMarks)
      }
      const base = median(node)
      const m = (xs: ReadonlyArray<Record<string, number>>) => (k: string) => median(xs.map((x) => x[k] ?? Number.NaN))
      const lane = m(marks)
      const full = m(fullMarks)
      // The lane's marks are read from the process's own clock (from its start); the last line is the rest of the
      // wall time: Node's teardown and the spawn's own cost, which `node -e 0` pays too.
      const phases: ReadonlyArray<readonly [string, number]> = [
        ["Node's boot, the launcher, the lane", lane("lane-script")],
        ["parse arguments", lane("parsed") - lane("lane-script")],
        ["load node:http", lane("http") - lane("parsed")],
        ["connect, send the GET", lane("sent") - lane("http")],
        ["server answers, body read", lane("response") - lane("sent")],
        ["check the body's shape", lane("checked") - lane("response")],
        ["render, write", lane("written") - lane("checked")],
        ["exit (wall time after the last mark)", lane("exit") - lane("written")]
      ]
      const fullPhases: ReadonlyArray<readonly [string, number]> = [
        ["load + evaluate the script", full("modules") - base],
        ["parse arguments", full("parsed") - full("modules")],
        ["evaluate the client's modules", full("client-chunk") - full("parsed")],
        ["build the client (agent)", full("client-ready") - full("client-chunk")],
        ["GET /data/AAPL/1h (+ decode)", full("response") - full("client-ready")],
        ["render, close, exit", full("exit") - full("response")]
      ]
      const ratio = median(shown) / base
      const versionRatio = median(version) / base
      const vs = (label: string, xs: ReadonlyArray<number>) =>
        `${label}: ${fmt(median(xs))} ms = ${fmt(median(xs) / base)} × node`
      return {
        name: bench.name,
        figure: { label: `ktrdr data show AAPL -t 1h, median of ${ROUNDS}`, value: median(shown), unit: "ms" },
        baseline: { label: "node -e 0", value: base, unit: "ms" },
        ratio,
        goal: "≤ 2.0 (and --version ≤ 1.5)",
        pass: ratio <= 2.0 && versionRatio <= 1.5,
        notes: [
          `${vs("ktrdr --version", version)} (goal ≤ 1.5: ${versionRatio <= 1.5 ? "meets" : "MISSES"})`,
          vs("data show without the lane: the full program (KTRDR_NO_SHOW_LANE=1)", fullShown),
          vs("data show through the launcher as an ES module (node dist/ktrdr.mjs)", mjsShown),
          vs("data show through the ES-module bundle alone (node dist/chunks/cliMain-*.mjs)", esmShown),
          vs("data show without the code caches (KTRDR_NO_CODE_CACHE=1)", noCache),
          "where data show's time goes through the lane (medians of the KTRDR_TIMING marks, from the process's start):",
          ...phases.map(([label, ms]) => `  ${label.padEnd(36)} ${fmt(ms).padStart(6)} ms`),
          "and through the full program (KTRDR_NO_SHOW_LANE=1; after the baseline's wall time, as before):",
          ...fullPhases.map(([label, ms]) => `  ${label.padEnd(36)} ${fmt(ms).padStart(6)} ms`)
        ]
      }
    } finally {
      await server.stop()
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}

export default bench
