/**
 * `--help` as a person reads it, in the layout of Click/Typer: `Usage: ktrdr data show [OPTIONS] SYMBOL`,
 * the description, then arguments and options in two columns with their defaults, then examples.
 * @effect/cli's own page printed every type as a sentence ("A user-defined piece of text.", "This setting
 * is optional."), its built-in options at every level, a usage line without the command path, ANSI codes
 * into pipes, and 330-character lines. The text still comes from the commands themselves (their
 * HelpDoc: descriptions, option names, choices), so it cannot drift from what the parser accepts.
 */
import { CliConfig, Command, HelpDoc } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"

// A command of any shape: the tree mixes commands of different options, errors and requirements.
export type AnyCommand = Command.Command<any, any, any, any>

export interface HelpNode {
  readonly name: string
  readonly command: AnyCommand
  readonly children?: ReadonlyArray<HelpNode>
  readonly examples?: ReadonlyArray<string>
}

export interface HelpStyle {
  /** Terminal columns to wrap at (80 when not a terminal). */
  readonly width: number
  /** Bold section titles: only on a terminal without NO_COLOR. */
  readonly color: boolean
}

/** Sentences @effect/cli adds to every option: they describe the parser, not the option. */
const BOILERPLATE = new Set([
  "This setting is optional.",
  "A user-defined piece of text.",
  "An integer.",
  "A true or false value.",
  "A floating point number.",
  "A date without a time-zone in the ISO-8601 format, such as 2007-12-03T10:15:30.",
  "This option can be set from environment variables."
])

const DEFAULT = /\s*\[default: ([^\]]*)\]/

const spanText = (s: Span): string => {
  switch (s._tag) {
    case "Text":
    case "URI":
      return s.value
    case "Sequence":
      return spanText(s.left) + spanText(s.right)
    default:
      return spanText(s.value)
  }
}

interface Section {
  readonly title: string
  readonly paragraphs: Array<string>
  readonly items: Array<{ readonly term: string; readonly text: Array<string> }>
}

/** The HelpDoc of one command as sections of plain text. */
const sectionsOf = (doc: HelpDoc.HelpDoc): Array<Section> => {
  const out: Array<Section> = []
  const current = (): Section => {
    if (out.length === 0) out.push({ title: "", paragraphs: [], items: [] })
    return out[out.length - 1]!
  }
  const paragraphs = (d: HelpDoc.HelpDoc): Array<string> => {
    switch (d._tag) {
      case "Paragraph":
        return [spanText(d.value)]
      case "Sequence":
        return [...paragraphs(d.left), ...paragraphs(d.right)]
      case "Enumeration":
        return d.elements.flatMap(paragraphs)
      case "DescriptionList":
        return d.definitions.flatMap(([t, dd]) => [spanText(t), ...paragraphs(dd)])
      default:
        return []
    }
  }
  const walk = (d: HelpDoc.HelpDoc): void => {
    switch (d._tag) {
      case "Header":
        out.push({ title: spanText(d.value), paragraphs: [], items: [] })
        return
      case "Paragraph":
        current().paragraphs.push(spanText(d.value))
        return
      case "DescriptionList":
        for (const [term, dd] of d.definitions) current().items.push({ term: spanText(term), text: paragraphs(dd) })
        return
      case "Enumeration":
        for (const e of d.elements) walk(e)
        return
      case "Sequence":
        walk(d.left)
        walk(d.right)
        return
      case "Empty":
        return
    }
  }
  walk(doc)
  return out
}

const CONFIG: CliConfig.CliConfig = { ...CliConfig.defaultConfig, showBuiltIns: false }

const sectionsOfCommand = (c: AnyCommand) => sectionsOf(Command.getHelp(c, CONFIG))
const section = (all: ReadonlyArray<Section>, title: string) => all.find((s) => s.title === title)

/** The first sentence-paragraph of a command's description. */
export const summaryOf = (c: AnyCommand): string => section(sectionsOfCommand(c), "DESCRIPTION")?.paragraphs[0] ?? ""

const CHOICE_PREFIX = "One of the following: "

/** `(-t, --timeframe 1s | 5s | …)` → names `-t, --timeframe`, metavar `TIMEFRAME`, choices. */
const optionTerm = (raw: string) => {
  const term = raw.replace(/^\((.*)\)$/, "$1")
  const tokens = term.split(" ")
  const names: Array<string> = []
  let k = 0
  while (k < tokens.length && tokens[k]!.startsWith("-")) names.push(tokens[k++]!.replace(/,$/, ""))
  const type = tokens.slice(k).join(" ")
  const long = names.find((n) => n.startsWith("--"))?.slice(2) ?? "value"
  const metavar = type === "" ? "" : type === "integer" ? "N" : long.toUpperCase().replaceAll("-", "_")
  return { names: names.join(", "), metavar }
}

const wrap = (text: string, width: number): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  // Split on plain spaces only: a no-break space keeps "[default: x]" on one line.
  for (const word of text.split(/[ \t\n]+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line.length > 0 ? `${line} ${word}` : word
  }
  if (line.length > 0) lines.push(line)
  return lines.length > 0 ? lines.map((l) => l.replaceAll("\u00a0", " ")) : [""]
}

/** Two columns: terms padded to one width (at most 28), descriptions wrapped beside them. */
const columns = (rows: ReadonlyArray<readonly [string, string]>, width: number): Array<string> => {
  const col = Math.min(28, Math.max(...rows.map(([t]) => t.length)) + 4, Math.floor(width / 2))
  const out: Array<string> = []
  for (const [term, text] of rows) {
    const body = wrap(text, Math.max(20, width - col))
    if (2 + term.length + 2 > col) {
      out.push(`  ${term}`)
      for (const l of body) out.push(" ".repeat(col) + l)
    } else {
      out.push(`  ${term.padEnd(col - 2)}${body[0]}`)
      for (const l of body.slice(1)) out.push(" ".repeat(col) + l)
    }
  }
  return out
}

const title = (s: string, style: HelpStyle) => (style.color ? `\x1b[1m${s}\x1b[0m` : s)

const leafHelp = (path: string, node: HelpNode, style: HelpStyle): Array<string> => {
  const all = sectionsOfCommand(node.command)
  const args = section(all, "ARGUMENTS")?.items ?? []
  const options = section(all, "OPTIONS")?.items ?? []
  const argNames = args.map((a) => a.term.replace(/^<(.*)>$/, "$1"))
  const out = [
    `${title("Usage:", style)} ${path}${options.length > 0 ? " [OPTIONS]" : ""} ${argNames.join(" ")}`.trimEnd()
  ]
  for (const p of section(all, "DESCRIPTION")?.paragraphs ?? []) {
    out.push(
      "",
      ...wrap(p, style.width - 2).map((l) => `  ${l}`)
    )
  }
  const describe = (text: ReadonlyArray<string>) =>
    text.filter((t) => !BOILERPLATE.has(t) && !t.startsWith(CHOICE_PREFIX))
  if (args.length > 0) {
    out.push("", title("Arguments:", style))
    out.push(...columns(args.map((a, k) => [argNames[k]!, `${describe(a.text).join(" ")}  [required]`]), style.width))
  }
  const rows: Array<readonly [string, string]> = options.map((o) => {
    const { metavar, names } = optionTerm(o.term)
    const choices = o.text.find((t) => t.startsWith(CHOICE_PREFIX))?.slice(CHOICE_PREFIX.length)
    const full = describe(o.text).join(" ")
    const fallback = DEFAULT.exec(full)?.[1]
    const text = full.replace(DEFAULT, "")
    const listed = choices !== undefined && choices.split(", ").every((c) => text.includes(c))
    return [
      `${names}${metavar ? ` ${metavar}` : ""}`,
      `${text}${choices && !listed ? `; one of: ${choices}` : ""}${fallback ? `  [default:\u00a0${fallback}]` : ""}`
    ]
  })
  rows.push(["-h, --help", "show this help and exit"])
  out.push("", title("Options:", style), ...columns(rows, style.width))
  if (node.examples && node.examples.length > 0) {
    out.push("", title("Examples:", style), ...node.examples.map((e) => `  ${e}`))
  }
  return out
}

const groupHelp = (path: string, node: HelpNode, style: HelpStyle, top: boolean): Array<string> => {
  const out = [`${title("Usage:", style)} ${path} COMMAND [ARGS]...`]
  const summary = summaryOf(node.command)
  if (summary) out.push("", ...wrap(summary, style.width - 2).map((l) => `  ${l}`))
  out.push(
    "",
    title("Commands:", style),
    ...columns((node.children ?? []).map((c) => [c.name, summaryOf(c.command)]), style.width)
  )
  const rows: Array<readonly [string, string]> = [["-h, --help", "show this help and exit"]]
  if (top) rows.push(["--version", "print the version and exit"])
  out.push("", title("Options:", style), ...columns(rows, style.width))
  if (node.examples && node.examples.length > 0) {
    out.push("", title("Examples:", style), ...node.examples.map((e) => `  ${e}`))
  }
  out.push("", `Run '${path} COMMAND --help' for a command's arguments and options.`)
  return out
}

/** The help page of the node at `path` (names from the root, e.g. ["ktrdr", "data", "show"]). */
export const renderHelp = (path: ReadonlyArray<HelpNode>, style: HelpStyle): string => {
  const node = path[path.length - 1]!
  const name = path.map((n) => n.name).join(" ")
  const lines = node.children && node.children.length > 0
    ? groupHelp(name, node, style, path.length === 1)
    : leafHelp(name, node, style)
  return lines.join("\n") + "\n"
}

/** Plain text where the output is not a terminal or NO_COLOR is set; the terminal's width, else 80. */
export const styleFor = (stream: { readonly isTTY?: boolean; readonly columns?: number }): HelpStyle => {
  const tty = stream.isTTY === true
  return {
    width: tty && stream.columns ? Math.max(40, Math.min(stream.columns, 120)) : 80,
    color: tty && process.env["NO_COLOR"] === undefined
  }
}
