/**
 * The one HttpApi contract of ktrdr: the server implements it, the CLI and tests derive their client
 * from it, and /api/v1/openapi.json is generated from it.
 */
import { HttpApi, OpenApi } from "@effect/platform"
import pkg from "../../package.json" with { type: "json" }
import { DataGroup } from "./api/data.ts"
import { GapsGroup } from "./api/gaps.ts"
import { HealthGroup } from "./api/health.ts"
import { IbGroup } from "./api/ib.ts"
import { IbExtraGroup } from "./api/ibExtra.ts"
import { IbHostGroup } from "./api/ibHost.ts"
import { OperationsGroup } from "./api/operations.ts"
import { SystemGroup } from "./api/system.ts"

/**
 * Every operation gets a summary (the one-line title docs tools list): the endpoint's own, else the first
 * sentence of its description, else its method and path.
 */
const withSummaries = (spec: Record<string, any>): Record<string, any> => {
  for (const [path, item] of Object.entries(spec["paths"] ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, any>)) {
      if (typeof op !== "object" || op === null || op.summary) continue
      const first = typeof op.description === "string" ? op.description.split(/(?<=[.;])\s|\n/)[0]!.trim() : ""
      op.summary = first !== "" && first.length <= 120 ? first.replace(/[.;]$/, "") : `${method.toUpperCase()} ${path}`
    }
  }
  return spec
}

export class KtrdrApi extends HttpApi.make("ktrdr")
  .add(HealthGroup)
  .add(DataGroup)
  .add(OperationsGroup)
  .add(GapsGroup)
  .add(IbGroup)
  .add(IbHostGroup)
  .add(IbExtraGroup)
  .add(SystemGroup)
  .annotate(OpenApi.Title, "ktrdr API")
  .annotate(OpenApi.Version, pkg.version)
  .annotate(OpenApi.Transform, withSummaries)
  .annotate(
    OpenApi.Description,
    "KTRDR's market-data API: stored bars, loads through one IB gateway session, operations with live progress"
  )
{}
