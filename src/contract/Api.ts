/**
 * The one HttpApi contract of ktrdr: the server implements it, the CLI and tests derive their client
 * from it, and /api/v1/openapi.json is generated from it.
 */
import { HttpApi, OpenApi } from "@effect/platform"
import { DataGroup } from "./api/data.ts"
import { GapsGroup } from "./api/gaps.ts"
import { HealthGroup } from "./api/health.ts"
import { IbGroup } from "./api/ib.ts"
import { IbExtraGroup } from "./api/ibExtra.ts"
import { IbHostGroup } from "./api/ibHost.ts"
import { OperationsGroup } from "./api/operations.ts"
import { SystemGroup } from "./api/system.ts"

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
  .annotate(
    OpenApi.Description,
    "KTRDR's market-data API: stored bars, loads through one IB gateway session, operations with live progress"
  )
{}
