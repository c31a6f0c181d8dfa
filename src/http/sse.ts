/**
 * Server-Sent Events framing. HttpApi in Effect 3 has no typed streams, so the handler returns a raw
 * streaming response; the stream ends by itself at the final event, on client disconnect, or at
 * server shutdown (the server drops open connections first).
 */
import { HttpServerResponse } from "@effect/platform"
import { Stream } from "effect"

export interface SseEvent {
  readonly event: string
  readonly data: unknown
  readonly id?: number
}

export const frame = (e: SseEvent) =>
  `${e.id === undefined ? "" : `id: ${e.id}\n`}event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`

/** Events plus a comment line every `keepAliveMs` so proxies keep the connection open. */
export const sseResponse = <E>(events: Stream.Stream<SseEvent, E>, keepAliveMs = 15_000) =>
  HttpServerResponse.stream(
    events.pipe(
      Stream.map(frame),
      Stream.merge(Stream.tick(`${keepAliveMs} millis`).pipe(Stream.drop(1), Stream.as(": keep-alive\n\n")), {
        haltStrategy: "left"
      }),
      Stream.encodeText
    ),
    { contentType: "text/event-stream", headers: { "cache-control": "no-cache", "x-accel-buffering": "no" } }
  )
