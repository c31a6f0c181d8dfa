/**
 * How the bin starts (src/app/cliLaunch.ts; the package's bin dist/ktrdr.cjs, and dist/ktrdr.mjs): from
 * another directory through a symlink, as an installed bin is run; and with a code cache stale, foreign
 * or missing, or a script missing — the `data show` lane's (cli-show) or the full program's (cli-fast) — the
 * same output and exit codes as with everything in place: only slower. A copy of dist/ is tampered with, never
 * dist/ itself (other test files run the bin at the same time).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { baseEnv, ensureBuilt, removeDir, type Result, ROOT, runFile } from "./support.ts"

let work: string | undefined
let server: Server | undefined
let url = ""

/** A stand-in server that answers every request with 404 DATA-NotFound (a series that is not stored). */
const startStub = async () => {
  server = createServer((_req, res) => {
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({
      success: false,
      data: null,
      error: { code: "DATA-NotFound", message: "no data", details: null }
    }))
  })
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

beforeAll(async () => {
  await ensureBuilt()
  work = await mkdtemp(join(tmpdir(), "ktrdr-start-"))
  await startStub()
}, 180_000)

afterAll(async () => {
  await new Promise((r) => server?.close(r))
  await removeDir(work)
})

type Run = Result

/** Runs `file` (a bin path, executed through its shebang) in `cwd`. */
const run = (file: string, args: ReadonlyArray<string>, cwd: string, extra: Record<string, string> = {}) =>
  runFile(file, args, baseEnv(extra), cwd)

/** Commands that need no real server, covering help, a usage error, a request and a failed connection. */
const commands = (): ReadonlyArray<ReadonlyArray<string>> => [
  ["--version"],
  ["data", "show", "--help"],
  ["data", "show"],
  ["data", "show", "AAPL", "-t", "1h", "--url", url],
  ["data", "show", "AAPL", "-t", "1h", "-f", "json", "--url", url],
  ["data", "range", "AAPL", "-t", "1h", "--url", "http://127.0.0.1:9"]
]

/** stderr without the KTRDR_TIMING diagnostics lines. */
const plain = (r: Run) => ({ ...r, stderr: r.stderr.replace(/^KTRDR_(TIMING|CODE_CACHE|SHOW_LANE) .*\n/gm, "") })

/** A copy of the built launchers and chunks (no source maps) in `dir`; `bin` is the package's bin (ktrdr.cjs). */
const copyDist = async (dir: string) => {
  await mkdir(join(dir, "chunks"), { recursive: true })
  for (const entry of ["ktrdr.cjs", "ktrdr.mjs"]) await cp(join(ROOT, "dist", entry), join(dir, entry))
  for (const f of await readdir(join(ROOT, "dist", "chunks"))) {
    if (!f.endsWith(".map")) await cp(join(ROOT, "dist", "chunks", f), join(dir, "chunks", f))
  }
  const launcher = await readFile(join(dir, "ktrdr.cjs"), "utf8")
  const fast = launcher.match(/chunks\/cli-fast-\w+\.cjs/)![0]
  const show = launcher.match(/chunks\/cli-show-\w+\.cjs/)![0]
  return { bin: join(dir, "ktrdr.cjs"), esm: join(dir, "ktrdr.mjs"), fast: join(dir, fast), show: join(dir, show) }
}

/** The package's bin, as package.json names it (what npm links). */
const packageBin = async () =>
  join(ROOT, (JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { bin: { ktrdr: string } }).bin.ktrdr)

describe("ktrdr bin start-up", () => {
  it("runs from another directory through a symlink, with its code cache accepted", async () => {
    const bin = join(work!, "bin")
    await mkdir(bin, { recursive: true })
    await symlink(await packageBin(), join(bin, "ktrdr"))
    const elsewhere = join(work!, "elsewhere")
    await mkdir(elsewhere, { recursive: true })
    const version = await run(join(bin, "ktrdr"), ["--version"], elsewhere)
    expect(version.code).toBe(0)
    expect(version.stdout).toBe(`${JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).version}\n\n`)
    const show = await run(join(bin, "ktrdr"), ["data", "show", "AAPL", "-t", "1h", "--url", url], elsewhere, {
      KTRDR_TIMING: "1"
    })
    expect(show.code).toBe(0)
    expect(show.stdout).toContain("No cached data found for AAPL (1h)")
    expect(show.stderr).toContain("KTRDR_CODE_CACHE accepted (show)")
    // The lane answered (the stub's DATA-NotFound): the full program was not loaded.
    expect(show.stderr).toMatch(/^KTRDR_TIMING .*"lane":1/m)
    expect(show.stderr).not.toContain("(fast)")
  })

  it("gives the same output when a code cache is foreign, stale or missing, or a script is gone", async () => {
    const reference = await copyDist(join(work!, "reference"))
    const expected = await Promise.all(commands().map((a) => run(reference.bin, a, work!).then(plain)))
    expect(expected.map((r) => r.code)).toEqual([0, 0, 2, 0, 0, 1])
    // The launcher as an ES module (`node dist/ktrdr.mjs …`) answers the same.
    for (const [i, args] of commands().entries()) {
      expect(plain(await run(reference.esm, args, work!)), `ktrdr.mjs ${args.join(" ")}`).toEqual(expected[i])
    }

    type Status = "accepted" | "rejected" | "no cache" | "no script"
    /** A copy of dist/ with one script's cache foreign, stale or missing, or the script itself missing. */
    const tampered = async (name: string, script: "fast" | "show", status: Status) => {
      const copy = await copyDist(join(work!, name))
      const file = copy[script]
      if (status === "rejected" && name.startsWith("foreign")) await writeFile(`${file}.cache`, Buffer.alloc(4096, 7))
      // A cache made for other source text (V8 tells them apart by length; the build names both by the
      // script's content hash, so a cache never meets another script of the same name).
      if (status === "rejected" && name.startsWith("stale")) {
        await writeFile(file, `${await readFile(file, "utf8")}\n// rebuilt\n`)
      }
      if (status === "no cache") await rm(`${file}.cache`)
      if (status === "no script") await rm(file)
      return {
        ...copy,
        status: { fast: "accepted", show: "accepted", [script]: status } as Record<typeof script, Status>
      }
    }
    const variants = [
      await tampered("foreign-fast", "fast", "rejected"),
      await tampered("stale-fast", "fast", "rejected"),
      await tampered("missing-fast-cache", "fast", "no cache"),
      await tampered("no-fast", "fast", "no script"),
      await tampered("foreign-show", "show", "rejected"),
      await tampered("stale-show", "show", "rejected"),
      await tampered("missing-show-cache", "show", "no cache"),
      await tampered("no-show", "show", "no script")
    ]
    /** The KTRDR_CODE_CACHE note for a script run in this status (none without a cache). */
    const expectNote = (stderr: string, label: string, status: Status, where: string) => {
      if (status === "accepted" || status === "rejected") {
        expect(stderr, where).toContain(`KTRDR_CODE_CACHE ${status} (${label})`)
      } else expect(stderr, where).not.toContain(`(${label})`)
    }

    for (const variant of variants) {
      for (const [i, args] of commands().entries()) {
        const r = await run(variant.bin, args, work!, { KTRDR_TIMING: "1" })
        const where = `${variant.bin} ${args.join(" ")}`
        expect(plain(r), where).toEqual(expected[i])
        if (args[0] !== "data" || args.length <= 3) continue
        if (args[1] === "show" && variant.status.show !== "no script") {
          // The lane answers (the stub's DATA-NotFound), whatever its cache.
          expectNote(r.stderr, "show", variant.status.show, where)
          expect(r.stderr, where).toMatch(/^KTRDR_TIMING .*"lane":1/m)
        } else {
          expectNote(r.stderr, "fast", variant.status.fast, where)
        }
      }
    }
  }, 120_000)
})
