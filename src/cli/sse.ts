/**
 * A Server-Sent Events decoder over a text stream (the subset the server emits: `event:`, `data:`, `id:`,
 * comment lines, blank-line terminated). Twenty lines instead of @effect/experimental's Sse, which would
 * add a package to the CLI bundle for the same job.
 */
import { Option, Stream } from "effect"

export interface SseMessage {
  readonly event: string
  readonly data: string
  readonly id: string | undefined
}

interface Pending {
  readonly event: string
  readonly data: ReadonlyArray<string>
  readonly id: string | undefined
}

const EMPTY: Pending = { event: "message", data: [], id: undefined }

/** One line into the pending message; a blank line completes it. */
const step = (p: Pending, line: string): readonly [Pending, Option.Option<SseMessage>] => {
  if (line === "") {
    return p.data.length === 0 && p.event === "message"
      ? [EMPTY, Option.none()]
      : [EMPTY, Option.some({ event: p.event, data: p.data.join("\n"), id: p.id })]
  }
  if (line.startsWith(":")) return [p, Option.none()]
  const colon = line.indexOf(":")
  const field = colon < 0 ? line : line.slice(0, colon)
  const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "")
  switch (field) {
    case "event":
      return [{ ...p, event: value }, Option.none()]
    case "data":
      return [{ ...p, data: [...p.data, value] }, Option.none()]
    case "id":
      return [{ ...p, id: value }, Option.none()]
    default:
      return [p, Option.none()]
  }
}

export const sseEvents = <E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<SseMessage, E, R> =>
  text.pipe(
    Stream.splitLines,
    Stream.mapAccum(EMPTY, step),
    Stream.filterMap((x) => x)
  )
