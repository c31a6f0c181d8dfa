/**
 * A private PostgreSQL cluster for tests and benchmarks: Debian's binaries, `initdb` into a temp directory, an
 * ephemeral port on 127.0.0.1, the unix socket inside the temp directory, durability off (fsync, full-page writes)
 * because the cluster dies with the test. Run as the `postgres` user when we are root (PostgreSQL refuses root).
 * Each caller gets fresh databases with `createDatabase`; `stop` kills the server and removes the directory.
 */
import { execFile, spawnSync } from "node:child_process"
import { chown, mkdtemp, readdir, rm } from "node:fs/promises"
import { freePort } from "./freePort.ts"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import pg from "pg"

const run = promisify(execFile)

export interface PgCluster {
  readonly port: number
  readonly dir: string
  /** `postgres://postgres@127.0.0.1:<port>/<db>` */
  readonly url: (database: string) => string
  /** A new, empty database; its URL. */
  readonly createDatabase: (name?: string) => Promise<string>
  /** Runs SQL as the superuser on a database (test set-up and inspection only). */
  readonly query: (database: string, text: string, values?: ReadonlyArray<unknown>) => Promise<pg.QueryResult>
  /**
   * Terminates every other backend of `database` and waits until they are gone, blocking this process's event loop
   * meanwhile: the pool's idle clients then still look alive when the caller's next query takes one of them.
   */
  readonly terminateSync: (database: string) => number
  /** Stops the server (`pg_ctl stop -m fast`: sessions cut, a clean shutdown) and starts it again on the same port. */
  readonly restart: (downMs?: number) => Promise<void>
  readonly stop: () => Promise<void>
}

const binDir = async (): Promise<string> => {
  const versions = await readdir("/usr/lib/postgresql").catch(() => [] as Array<string>)
  const newest = versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))[0]
  if (newest === undefined) {
    throw new Error("PostgreSQL is not installed (/usr/lib/postgresql/*/bin): apt-get install postgresql")
  }
  return `/usr/lib/postgresql/${newest}/bin`
}

const asRoot = process.getuid?.() === 0

/** The command as the postgres user when we are root. */
const as = (cmd: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, [...args]]

let dbCounter = 0

export const startPgCluster = async (): Promise<PgCluster> => {
  const bin = await binDir()
  const dir = await mkdtemp(join(tmpdir(), "ktrdr-pg-"))
  if (asRoot) {
    const { stdout } = await run("id", ["-u", "postgres"])
    const { stdout: gid } = await run("id", ["-g", "postgres"])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const data = join(dir, "data")
  await run(...as(`${bin}/initdb`, ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-N"]))
  let port = 0
  const options = () =>
    [
      `-p ${port}`,
      `-k ${dir}`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      "-c synchronous_commit=off",
      "-c full_page_writes=off",
      "-c shared_buffers=32MB",
      "-c max_connections=60"
    ].join(" ")
  const start = () =>
    run(...as(`${bin}/pg_ctl`, ["-D", data, "-o", options(), "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]))
  for (let attempt = 0;; attempt++) {
    port = await freePort()
    const started = await start().then(() => true, (e: unknown) => (attempt < 3 ? false : Promise.reject(e)))
    if (started) break
  }
  let stopped = false
  // A test process that dies without stopping must not leave a postmaster behind.
  const onExit = () => {
    if (!stopped) spawnSync(...as(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "stop"]))
  }
  process.once("exit", onExit)
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`
  const query = async (database: string, text: string, values?: ReadonlyArray<unknown>) => {
    const client = new pg.Client({ connectionString: url(database) })
    await client.connect()
    try {
      return await client.query(text, values as Array<unknown> | undefined)
    } finally {
      await client.end()
    }
  }
  return {
    port,
    dir,
    url,
    query,
    createDatabase: async (name = `t${process.pid}_${++dbCounter}`) => {
      await query("postgres", `CREATE DATABASE ${pg.escapeIdentifier(name)}`)
      return url(name)
    },
    terminateSync: (database) => {
      // psql reads the script from stdin, where :'db' is interpolated as a quoted literal
      const script = `select count(pg_terminate_backend(pid)) from pg_stat_activity
        where datname = :'db' and pid <> pg_backend_pid();
        select pg_sleep(0.2);`
      const r = spawnSync(
        `${bin}/psql`,
        ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-At", "-v", `db=${database}`, "-f", "-"],
        { encoding: "utf8", input: script }
      )
      if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`)
      return Number(r.stdout.split("\n")[0])
    },
    restart: async (downMs = 0) => {
      await run(...as(`${bin}/pg_ctl`, ["-D", data, "-m", "fast", "-w", "stop"]))
      await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    stop: async () => {
      if (stopped) return
      stopped = true
      process.off("exit", onExit)
      await run(...as(`${bin}/pg_ctl`, ["-D", data, "-m", "immediate", "stop"])).catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    }
  }
}
