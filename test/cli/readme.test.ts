/**
 * The README's "Programmatic use" example, run as written (a user's script importing "ktrdr-ts") against
 * the built-in simulator, in a fresh working directory.
 */
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseEnv, ensureBuilt, ROOT } from "./support.ts"

const example = (): string => {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8")
  const section = readme.split(/^## /m).find((s) => s.startsWith("Programmatic use"))
  if (!section) throw new Error("README has no 'Programmatic use' section")
  const code = section.match(/```ts\n([\s\S]*?)```/)
  if (!code) throw new Error("the 'Programmatic use' section has no ts example")
  return code[1]!
}

const cleanup: Array<string> = []
// "ktrdr-ts" resolves to the built runtime (dist/index.mjs), built with the CLI bundle.
beforeAll(() => ensureBuilt(), 120_000)
afterAll(async () => {
  for (const p of cleanup) await rm(p, { recursive: true, force: true })
})

describe("README", () => {
  it("the programmatic example runs against the simulator and prints what it says", { timeout: 120_000 }, async () => {
    const code = example()
    expect(code).toContain("from \"ktrdr-ts\"")
    // Inside the package, so "ktrdr-ts" resolves through package.json's exports, as it would for a user.
    const dir = join(ROOT, "test-artifacts")
    mkdirSync(dir, { recursive: true })
    const file = join(dir, `readme-example-${process.pid}.ts`)
    writeFileSync(file, code)
    cleanup.push(file)
    const cwd = await mkdtemp(join(tmpdir(), "ktrdr-readme-"))
    cleanup.push(cwd)
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [file], {
      cwd,
      env: baseEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    child.stdout.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr.on("data", (d: Buffer) => (err += d.toString()))
    const code_ = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(err).toBe("")
    expect(code_).toBe(0)
    expect(out).toMatch(/^fetched \d+ bars; \d+ stored \(operation op_data_load_\S+\)$/m)
    expect(out).toMatch(/^last close [\d.]+ at \d{4}-\d\d-\d\dT/m)
    expect(out).toMatch(/^server on http:\/\/127\.0\.0\.1:\d+, gateway client 1$/m)
    // dataDir "./data" is relative to the working directory.
    expect(readFileSync(join(cwd, "data", "AAPL_1h.csv"), "utf8")).toMatch(/^timestamp,open,high,low,close,volume/)
  })

  it(
    "plain Node (no TypeScript loader) imports the package's built runtime and serves the chart",
    { timeout: 120_000 },
    async () => {
      const cwd = await mkdtemp(join(tmpdir(), "ktrdr-plain-"))
      cleanup.push(cwd)
      mkdirSync(join(cwd, "node_modules"), { recursive: true })
      symlinkSync(ROOT, join(cwd, "node_modules", "ktrdr-ts"), "dir")
      writeFileSync(
        join(cwd, "app.mjs"),
        [
          "import { createKtrdr } from \"ktrdr-ts\"",
          "const ktrdr = createKtrdr({ simulator: true, dataDir: \"./data\" })",
          "try {",
          "  const load = await ktrdr.load(\"AAPL\", \"1d\")",
          "  console.log(`loaded ${load.totalBars}`)",
          "  const server = await ktrdr.startServer({ port: 0 })",
          "  const page = await fetch(`${server.url}/`)",
          "  console.log(`chart ${page.status} ${page.headers.get(\"content-type\")}`)",
          "} finally {",
          "  await ktrdr.dispose()",
          "}"
        ].join("\n")
      )
      const child = spawn(process.execPath, ["app.mjs"], { cwd, env: baseEnv(), stdio: ["ignore", "pipe", "pipe"] })
      let out = ""
      let err = ""
      child.stdout.on("data", (d: Buffer) => (out += d.toString()))
      child.stderr.on("data", (d: Buffer) => (err += d.toString()))
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
      expect(err).toBe("")
      expect(code).toBe(0)
      expect(out).toMatch(/^loaded [1-9]\d*$/m)
      expect(out).toMatch(/^chart 200 text\/html/m)
    }
  )
})
