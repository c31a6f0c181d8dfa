/**
 * The house's layering as code (npm run check:deps). Arrows point down only:
 *   app (composition roots), src/index.ts
 *     → http (handlers, server) → services → layers → contract → domain
 *     → cluster (entities, workflows, table-backed Operations) → services
 *     → cli (commands) → contract → domain
 *   sim (the gateway simulator) → domain; only src/app/demo.ts (and demoCommand.ts, the `sim` command) reaches into it.
 * Tests, benchmarks and scripts may import anything, but take part in the no-cycles rule.
 */
const ours = "^src/"
const only = (name, from, allowed, comment) => ({
  name,
  comment,
  severity: "error",
  from: { path: from },
  to: { path: ours, pathNot: allowed }
})

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "Import cycles (type-only ones included) make modules order-dependent and hard to split",
      severity: "error",
      from: {},
      to: { circular: true }
    },
    only("domain-is-pure", "^src/domain/", "^src/domain/", "src/domain holds pure values and rules: it imports nothing of ours"),
    only(
      "contract-is-a-description",
      "^src/contract/",
      "^src/(contract|domain)/",
      "The HttpApi contract is a pure description: only domain values, so lower code may import it"
    ),
    only("layers-below-services", "^src/layers/", "^src/(layers|contract|domain)/", "layers own resources: they use domain and the contract only"),
    only(
      "services-over-layers",
      "^src/services/",
      "^src/(services|layers|domain)/",
      "services compose layers and domain rules; they never reach up into http, cli or the composition roots"
    ),
    only(
      "cluster-over-services",
      "^src/cluster/",
      "^src/(cluster|services|layers|contract|domain)/",
      "cluster mode puts the services on @effect/cluster: entities, workflows and a table-backed Operations registry"
    ),
    only(
      "http-over-services",
      "^src/http/",
      "^src/(http|services|layers|contract|domain)/",
      "http handlers serve the contract with the services; the composition roots sit above them"
    ),
    only(
      "cli-through-the-contract",
      "^src/cli/",
      "^src/(cli|contract|domain)/",
      "the CLI reaches the server only through the contract and KtrdrClient"
    ),
    only("sim-stands-alone", "^src/sim/", "^src/(sim|domain)/", "the simulator is a stand-in gateway: it shares only domain rules"),
    only(
      "chart-is-a-page",
      "^src/chart/",
      "^src/(chart|domain)/",
      "the chart page runs in the browser: it may share pure domain code, nothing with I/O"
    ),
    {
      name: "sim-only-through-the-demo-wiring",
      comment:
        "nothing in src imports the simulator except the demo wiring (src/app/demo.ts, and src/app/demoCommand.ts: the `sim` command's options alone, so the bin's start-up does not evaluate the simulator)",
      severity: "error",
      from: { path: ours, pathNot: ["^src/sim/", "^src/app/demo(Command)?\\.ts$"] },
      to: { path: "^src/sim/" }
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".mts", ".js", ".mjs", ".json"],
      conditionNames: ["import", "require", "node", "default", "types"],
      exportsFields: ["exports"]
    }
  }
}
