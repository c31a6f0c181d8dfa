/**
 * `ktrdr data export DIR` and `ktrdr data import DIR`: KTRDR's CSV world in and out of whatever store is configured
 * (KTRDR_DATABASE_URL's PostgreSQL, else KTRDR_DATA_DIR's files). They run in this process over the store layers —
 * no server, no gateway — which the bin's composition root supplies through the DataTransfer tag (a dynamic import),
 * since the CLI does not import the core.
 */
import { Args, Command, Options } from "@effect/cli"
import { Context, Effect } from "effect"
import { report } from "./errors.ts"
import { fmtInt, print } from "./render.ts"
import { verbosity } from "./connection.ts"

export interface TransferredSeries {
  readonly series: string
  readonly timeframe: string
  readonly bars: number
  /** written: created or replaced whole; merged: into a stored series; skipped: nothing new. */
  readonly action: "written" | "merged" | "unchanged"
}

export interface TransferReport {
  /** The configured store, for people (`postgres:host:5432/db` or the data directory). */
  readonly store: string
  readonly series: ReadonlyArray<TransferredSeries>
  /** Symbol cache entries written (export) or added (import). */
  readonly cacheEntries: number
}

export interface TransferOps {
  /** Every stored series (or those named: `AAPL` for all its timeframes, `AAPL_1h` for one) as `<DIR>/<S>_<TF>.csv`. */
  readonly exportTo: (dir: string, series: ReadonlyArray<string>) => Effect.Effect<TransferReport, unknown>
  /** Every `<S>_<TF>.csv` of DIR into the store; running it twice changes nothing the second time. */
  readonly importFrom: (dir: string) => Effect.Effect<TransferReport, unknown>
}

export class DataTransfer extends Context.Tag("ktrdr/cli/DataTransfer")<DataTransfer, {
  readonly load: () => Promise<TransferOps>
}>() {}

const dirArg = Args.directory({ name: "DIR", exists: "either" }).pipe(
  Args.withDescription("a KTRDR data directory (<SYMBOL>_<TF>.csv files, symbol_discovery_cache.json)")
)

const verbose = Options.boolean("verbose").pipe(Options.withAlias("v"), Options.withDescription("show logs"))

const lines = (r: TransferReport, verb: string, where: string) => {
  const total = r.series.reduce((n, s) => n + s.bars, 0)
  return [
    ...r.series.map((s) => `  ${s.series}_${s.timeframe}: ${fmtInt(s.bars)} bars ${s.action}`),
    `${verb} ${r.series.length} series (${fmtInt(total)} bars) and ${r.cacheEntries} symbol cache entries ${where}`
  ]
}

const run = <A>(o: { readonly verbose: boolean }, f: (ops: TransferOps) => Effect.Effect<A, unknown>) =>
  Effect.gen(function*() {
    const ops = yield* Effect.promise((yield* DataTransfer).load)
    return yield* f(ops)
  }).pipe(Effect.catchAll((e) => report(e, "")), verbosity(o.verbose))

const exportCommand = Command.make(
  "export",
  {
    series: Options.text("series").pipe(
      Options.withAlias("s"),
      Options.repeated,
      Options.withDescription("only this series: AAPL (every timeframe) or AAPL_1h; repeatable  [default: all]")
    ),
    verbose,
    dir: dirArg
  },
  (o) =>
    run(
      o,
      (ops) =>
        Effect.flatMap(ops.exportTo(o.dir, o.series), (r) =>
          print(...lines(r, "exported", `from ${r.store} to ${o.dir}`)))
    )
).pipe(Command.withDescription("Write the configured store's series as KTRDR CSV files into DIR"))

const importCommand = Command.make(
  "import",
  { verbose, dir: dirArg },
  (o) =>
    run(
      o,
      (ops) =>
        Effect.flatMap(ops.importFrom(o.dir), (r) => print(...lines(r, "imported", `from ${o.dir} into ${r.store}`)))
    )
).pipe(Command.withDescription("Load a KTRDR data directory's CSV files into the configured store (idempotent)"))

export const dataTransferCommands = [exportCommand, importCommand] as const
