/**
 * Usage errors in one line that name the option, the bad value and what is accepted, and the walk of
 * the command line that finds which help page `--help` asks for. @effect/cli reported an unknown
 * `data shw` as an invalid *top-level* command, printed schema failures as trees ("From side refinement
 * failure") and never said which option a bad choice belonged to; those texts are rewritten here.
 */
import type { HelpNode } from "./help.ts"

export type Resolution =
  | { readonly _tag: "Help"; readonly path: ReadonlyArray<HelpNode> }
  | { readonly _tag: "Usage"; readonly path: ReadonlyArray<HelpNode>; readonly message: string }
  | { readonly _tag: "Run"; readonly path: ReadonlyArray<HelpNode> }

const isHelp = (t: string) => t === "--help" || t === "-h"
/** Built-in options of the root that take a value (the value is not a command name). */
const TAKES_VALUE = new Set(["--completions", "--log-level"])

const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
  }
  return d[a.length]![b.length]!
}

/**
 * Which command the arguments (after the executable) name, and whether they ask for help. Subcommand
 * names are only looked for while the command reached has subcommands; after that, tokens belong to
 * the leaf command's own parser.
 */
export const resolveArgv = (root: HelpNode, args: ReadonlyArray<string>): Resolution => {
  const path = [root]
  let help = false
  for (let k = 0; k < args.length; k++) {
    const token = args[k]!
    if (token === "--") break
    if (TAKES_VALUE.has(token)) {
      k++
      continue
    }
    if (isHelp(token)) {
      help = true
      continue
    }
    const node = path[path.length - 1]!
    if (!node.children || node.children.length === 0) continue
    if (token.startsWith("-")) continue
    const next = node.children.find((c) => c.name === token)
    if (next) {
      path.push(next)
      continue
    }
    const names = node.children.map((c) => c.name)
    const near = names.filter((n) => distance(n, token) <= 2)
    return {
      _tag: "Usage",
      path,
      message: `no command '${token}'${near.length > 0 ? ` (did you mean '${near[0]}'?)` : ""}; ` +
        `commands: ${names.join(", ")}`
    }
  }
  // Bare `ktrdr` (nothing at all) is a request for the overview.
  if (help || args.length === 0) return { _tag: "Help", path }
  const last = path[path.length - 1]!
  if (path.length > 1 && last.children && last.children.length > 0) {
    return {
      _tag: "Usage",
      path,
      message: `missing command; one of: ${last.children.map((c) => c.name).join(", ")}`
    }
  }
  return { _tag: "Run", path }
}

const ANSI = /\x1b\[[0-9;]*m/g
export const stripAnsi = (s: string): string => s.replace(ANSI, "")

const CHOICES = /^Expected one of the following cases: (.*)$/

/** The option whose value `value` is on the command line (`-t 3h` or `--timeframe=3h`). */
const optionOf = (args: ReadonlyArray<string>, value: string): string | undefined => {
  for (let k = 0; k < args.length; k++) {
    const t = args[k]!
    if (t.startsWith("-") && t.includes("=") && t.slice(t.indexOf("=") + 1) === value) return t.slice(0, t.indexOf("="))
    if (t === value && k > 0 && args[k - 1]!.startsWith("-")) return args[k - 1]
  }
  return undefined
}

/**
 * One line from @effect/cli's failure text: the innermost message of a schema failure tree, the option
 * named where the text only has its value, and for a bad choice the value given and the accepted ones.
 */
export const usageMessage = (raw: string, args: ReadonlyArray<string>): string => {
  const lines = stripAnsi(raw).split("\n").map((l) => l.trim()).filter((l) => l.length > 0)
  const leaf = lines.filter((l) => l.includes("└─")).pop()?.replace(/^.*└─\s*/, "") ?? lines[0] ?? "invalid arguments"
  const choice = CHOICES.exec(leaf)
  if (choice) {
    const accepted = choice[1]!.split(", ")
    for (let k = 0; k < args.length; k++) {
      const [opt, value] = [args[k]!, args[k + 1]]
      if (opt.startsWith("-") && value !== undefined && !value.startsWith("-") && !accepted.includes(value)) {
        return `${opt} '${value}' is not accepted; use one of: ${accepted.join(", ")}`
      }
      if (opt.startsWith("-") && opt.includes("=") && !accepted.includes(opt.slice(opt.indexOf("=") + 1))) {
        const [name, v] = [opt.slice(0, opt.indexOf("=")), opt.slice(opt.indexOf("=") + 1)]
        return `${name} '${v}' is not accepted; use one of: ${accepted.join(", ")}`
      }
    }
    return `a value is not accepted; use one of: ${accepted.join(", ")}`
  }
  const quoted = /'([^']*)'/.exec(leaf)?.[1]
  const option = quoted === undefined ? undefined : optionOf(args, quoted)
  const text = leaf.replace("is not a integer", "is not an integer").replace(
    /^Missing argument <(.*)>$/,
    "missing argument $1"
  )
  return option && !text.startsWith(option) ? `${option} ${text}` : text
}
