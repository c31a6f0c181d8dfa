/** `npm start`: the server on KTRDR_API_HOST:KTRDR_API_PORT (127.0.0.1:8000) with the built-in simulator as its gateway. */
import { NodeRuntime } from "@effect/platform-node"
import { DEMO_SIM, serve } from "./serve.ts"

NodeRuntime.runMain(serve({ sim: DEMO_SIM }))
