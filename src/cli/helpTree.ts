/**
 * The command tree as the help renderer and the argument walk see it, with an example or two per
 * command (the `Examples:` section). The commands are the parser's own, so names and options cannot
 * drift from what is accepted.
 */
import { Command } from "@effect/cli"
import { dataSubcommands } from "./data.ts"
import type { AnyCommand, HelpNode } from "./help.ts"
import { ibSubcommands } from "./ib.ts"
import { operationsSubcommands } from "./operations.ts"

const EXAMPLES: Record<string, ReadonlyArray<string>> = {
  "ktrdr": ["ktrdr data show AAPL -t 1h", "ktrdr data load AAPL -t 1h", "ktrdr serve --sim"],
  "ktrdr data": ["ktrdr data show AAPL -t 1h -r 5", "ktrdr data load EUR.USD -t 1h -m backfill --start 2024-01-01"],
  "ktrdr data show": [
    "ktrdr data show AAPL -t 1h -r 5",
    "ktrdr data show AAPL --start 2024-01-02 --end 2024-01-31 -f csv > aapl.csv"
  ],
  "ktrdr data load": [
    "ktrdr data load AAPL -t 1h                       # newest bars (tail)",
    "ktrdr data load AAPL -t 1d -m backfill --start 2015-01-01",
    "ktrdr data load ES -t 5m -m full --start 2024-06-01 --end 2024-06-30"
  ],
  "ktrdr data range": ["ktrdr data range AAPL -t 1h"],
  "ktrdr data export": [
    "ktrdr data export ./ktrdr-data                   # every series of the configured store",
    "ktrdr data export --series AAPL --series EURUSD_1h ./out"
  ],
  "ktrdr data import": ["KTRDR_DATABASE_URL=postgres://localhost/ktrdr ktrdr data import ~/ktrdr/data"],
  "ktrdr data gaps": ["ktrdr data gaps AAPL -t 1h --start 2024-01-01 --mode extended"],
  "ktrdr operations": ["ktrdr operations list --active", "ktrdr operations status <ID>"],
  "ktrdr operations list": ["ktrdr operations list --active", "ktrdr operations list -s failed -f json"],
  "ktrdr operations status": ["ktrdr operations status op_data_load_20250706_213401_1a2b3c4d"],
  "ktrdr operations cancel": ["ktrdr operations cancel <ID> --reason 'wrong range'"],
  "ktrdr operations retry": ["ktrdr operations retry <ID>"],
  "ktrdr ib": ["ktrdr ib status", "ktrdr ib symbol IBM"],
  "ktrdr ib status": ["ktrdr ib status -f json"],
  "ktrdr ib health": ["ktrdr ib health && echo gateway ok"],
  "ktrdr ib symbol": ["ktrdr ib symbol EUR.USD", "ktrdr ib symbol IBM --force-refresh"],
  "ktrdr serve": ["ktrdr serve --sim", "KTRDR_IB_HOST=10.0.0.5 KTRDR_IB_PORT=4002 ktrdr serve --port 8000"],
  "ktrdr sim": ["ktrdr sim --port 4002 --control-port 4003 --pacing strict"]
}

const nameOf = (c: AnyCommand): string => [...Command.getNames(c)][0]!

const node = (parent: string, command: AnyCommand, children?: ReadonlyArray<AnyCommand>): HelpNode => {
  const name = nameOf(command)
  const path = parent ? `${parent} ${name}` : name
  return {
    name,
    command,
    ...(children ? { children: children.map((c) => node(path, c)) } : {}),
    examples: EXAMPLES[path] ?? []
  }
}

/** The tree under `root`; `serve` and `sim` are leaves built above the CLI (src/app), passed in. */
export const helpTree = (
  root: AnyCommand,
  groups: {
    readonly data: AnyCommand
    readonly operations: AnyCommand
    readonly ib: AnyCommand
    readonly leaves: ReadonlyArray<AnyCommand>
  }
): HelpNode => ({
  ...node("", root),
  children: [
    node("ktrdr", groups.data, dataSubcommands),
    node("ktrdr", groups.operations, operationsSubcommands),
    node("ktrdr", groups.ib, ibSubcommands),
    ...groups.leaves.map((c) => node("ktrdr", c))
  ]
})
