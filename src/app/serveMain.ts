/**
 * `npm start`: the server on KTRDR_API_HOST:KTRDR_API_PORT (127.0.0.1:8000) with the built-in simulator as its gateway.
 */
import { NodeRuntime } from "@effect/platform-node"
import { DEMO_SIM, serve } from "./serve.ts"

// Our own logger (KTRDR_LOG_FORMAT) replaces runMain's pretty one; both would print every line.
NodeRuntime.runMain(
  serve({
    sim: DEMO_SIM,
    realGatewayHint: "for a real gateway: KTRDR_IB_HOST=<host> KTRDR_IB_PORT=<port> npm run serve"
  }),
  { disablePrettyLogger: true }
)
