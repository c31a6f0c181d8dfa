/** The help renderer and the argument walk, in-process: terminal width and colour, and where help points. */
import { Command } from "@effect/cli"
import { describe, expect, it } from "vitest"
import { dataCommand } from "../../src/cli/data.ts"
import { renderHelp, styleFor } from "../../src/cli/help.ts"
import { helpTree } from "../../src/cli/helpTree.ts"
import { ibCommand } from "../../src/cli/ib.ts"
import { operationsCommand } from "../../src/cli/operations.ts"
import { resolveArgv, stripAnsi, usageMessage } from "../../src/cli/usage.ts"

const tree = helpTree(Command.make("ktrdr"), {
  data: dataCommand,
  operations: operationsCommand,
  ib: ibCommand,
  leaves: []
})

describe("help rendering", () => {
  it("wraps to the terminal's width and makes section titles bold only when asked", () => {
    const data = tree.children!.find((c) => c.name === "data")!
    const show = data.children!.find((c) => c.name === "show")!
    for (const width of [60, 100]) {
      const page = renderHelp([tree, data, show], { width, color: true })
      expect(page).toContain("\x1b[1mOptions:\x1b[0m")
      // The longest unbreakable word (an example command line) may exceed narrow widths; prose never does.
      const prose = stripAnsi(page).split("\n").filter((l) => !l.startsWith("  ktrdr "))
      for (const line of prose) expect(line.length, `${width}: ${line}`).toBeLessThanOrEqual(width)
    }
    expect(renderHelp([tree, data, show], { width: 80, color: false })).not.toMatch(/\x1b\[/)
  })

  it("styleFor: a terminal's columns and colour unless NO_COLOR; a pipe gets 80 columns, no colour", () => {
    expect(styleFor({})).toEqual({ width: 80, color: false })
    expect(styleFor({ isTTY: false, columns: 200 })).toEqual({ width: 80, color: false })
    expect(styleFor({ isTTY: true, columns: 100 }).width).toBe(100)
    expect(styleFor({ isTTY: true, columns: 100 }).color).toBe(process.env["NO_COLOR"] === undefined)
  })
})

describe("argument walk", () => {
  it("finds the help page, the unknown command, and leaves options to the leaf", () => {
    const names = (r: ReturnType<typeof resolveArgv>) => r.path.map((n) => n.name)
    expect(names(resolveArgv(tree, ["data", "show", "--help"]))).toEqual(["ktrdr", "data", "show"])
    expect(resolveArgv(tree, ["-h", "data"])._tag).toBe("Help")
    expect(resolveArgv(tree, ["data", "show", "AAPL", "-t", "1h"])).toMatchObject({ _tag: "Run" })
    // A leaf's positional that happens to be a command name is the leaf's argument.
    expect(names(resolveArgv(tree, ["data", "show", "load"]))).toEqual(["ktrdr", "data", "show"])
    const typo = resolveArgv(tree, ["operations", "lst"])
    expect(typo).toMatchObject({ _tag: "Usage" })
    expect(typo._tag === "Usage" && typo.message).toBe(
      "no command 'lst' (did you mean 'list'?); commands: list, status, cancel, retry"
    )
  })

  it("usage messages: the innermost schema message; the option named from the command line", () => {
    const tree2 = "{ string | filter }\n└─ Predicate refinement failure\n   └─ 'x' is not a URL: use http://host:port"
    expect(usageMessage(tree2, ["data", "show", "A", "--url", "x"])).toBe(
      "--url 'x' is not a URL: use http://host:port"
    )
    expect(usageMessage("Expected one of the following cases: a, b", ["--mode", "c"])).toBe(
      "--mode 'c' is not accepted; use one of: a, b"
    )
    expect(usageMessage("\x1b[1m'q' is not a integer\x1b[0m", ["-r", "q"])).toBe("-r 'q' is not an integer")
  })
})
