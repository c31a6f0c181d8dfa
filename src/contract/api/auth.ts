/** Bearer-token security for every group but health; a no-op until `KTRDR_API_TOKEN` is set. */
import { HttpApiMiddleware, HttpApiSecurity } from "@effect/platform"
import { UnauthorizedWire } from "../envelope.ts"

export class Auth extends HttpApiMiddleware.Tag<Auth>()("ktrdr/Auth", {
  failure: UnauthorizedWire,
  security: { bearer: HttpApiSecurity.bearer }
}) {}
