/**
 * The bars reader as a service, built once with the API: its hot-series cache lives as long as the server,
 * and both the data handlers and the request middleware's hot lane (hotLane.ts) answer from the same one.
 */
import { Context, type Effect, Layer } from "effect"
import { makeBarsReader } from "./barsRead.ts"

export class BarsReader extends Context.Tag("ktrdr/BarsReader")<
  BarsReader,
  Effect.Effect.Success<typeof makeBarsReader>
>() {
  static readonly layer = Layer.scoped(BarsReader, makeBarsReader)
}
