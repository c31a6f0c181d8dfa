/**
 * The Terminal that @effect/cli requires, built on first use. NodeTerminal's layer reads `process.stdin`
 * when it is built, and Node then loads its fs streams and creates the stdin handle (~5 ms of every
 * command's start); @effect/cli only uses a terminal for prompts, which no ktrdr command asks for. The
 * real terminal is made in the layer's scope the first time one of its members runs, so its readline
 * interface is still closed with the scope.
 */
import * as Terminal from "@effect/platform/Terminal"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { Effect, Layer, Scope } from "effect"

export const lazyTerminal = Layer.scoped(
  Terminal.Terminal,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const real = yield* Effect.cached(Scope.extend(NodeTerminal.make(), scope))
    return Terminal.Terminal.of({
      columns: Effect.flatMap(real, (t) => t.columns),
      rows: Effect.flatMap(real, (t) => t.rows),
      isTTY: Effect.flatMap(real, (t) => t.isTTY),
      readInput: Effect.flatMap(real, (t) => t.readInput),
      readLine: Effect.flatMap(real, (t) => t.readLine),
      display: (text) => Effect.flatMap(real, (t) => t.display(text))
    })
  })
)
