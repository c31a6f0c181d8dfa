/// <reference lib="dom" />
/**
 * Server-Sent Events over `fetch`. EventSource cannot send an Authorization header, so the stream is
 * read with a ReadableStream reader and the `event:` / `data:` frames are parsed here — the same path
 * with or without a token, so the tested path is the one users get.
 */
import { authHeaders } from "./api.ts"

export interface SseMessage {
  readonly event: string
  readonly data: string
  readonly id: string | null
}

/**
 * Incremental parser (the WHATWG event-stream rules the server's framing needs): feed it decoded text
 * in any chunking; it returns the complete messages. Comments (`: keep-alive`) are skipped, multi-line
 * `data:` is joined with "\n", a message without `event:` is a "message".
 */
export const sseParser = () => {
  let buffer = ""
  let event = ""
  let data: string[] = []
  let id: string | null = null
  const line = (l: string, out: SseMessage[]) => {
    if (l === "") {
      if (data.length > 0) out.push({ event: event === "" ? "message" : event, data: data.join("\n"), id })
      event = ""
      data = []
      return
    }
    if (l.startsWith(":")) return
    const colon = l.indexOf(":")
    const field = colon === -1 ? l : l.slice(0, colon)
    let value = colon === -1 ? "" : l.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "event") event = value
    else if (field === "data") data.push(value)
    else if (field === "id") id = value
  }
  return (chunk: string): SseMessage[] => {
    buffer += chunk
    const out: SseMessage[] = []
    // Lines end with \n, \r\n or \r; a trailing \r may be half of \r\n, so it waits for the next chunk.
    for (;;) {
      const m = /\r\n|\n|\r(?!$)/.exec(buffer)
      if (m === null) break
      line(buffer.slice(0, m.index), out)
      buffer = buffer.slice(m.index + m[0].length)
    }
    return out
  }
}

/**
 * Reads `path` as an event stream until it ends, the signal aborts, or `onMessage` returns `"stop"`.
 * Resolves when the stream is over; rejects on HTTP errors (with the response, for the caller's envelope
 * handling) and network failures.
 */
export const readEvents = async (
  path: string,
  onMessage: (m: SseMessage) => "stop" | void,
  signal: AbortSignal
): Promise<{ readonly stopped: boolean }> => {
  const res = await fetch(path, {
    headers: { accept: "text/event-stream", ...authHeaders() },
    cache: "no-store",
    signal
  })
  if (!res.ok || res.body === null) throw res
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
  const parse = sseParser()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return { stopped: false }
      for (const m of parse(value)) if (onMessage(m) === "stop") return { stopped: true }
    }
  } finally {
    // Closes the connection when we stop early (the server then ends its stream for this client).
    reader.cancel().catch(() => undefined)
  }
}
