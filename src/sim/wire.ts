/**
 * TWS API framing as the gateway side sees it (tws-protocol.md §1–2): a handshake prefix
 * `API\0` + BE32 length + version string, then BE32-length frames whose fields each end in NUL.
 */

/** Frames above this size are treated as garbage: no legal client message comes near it. */
const MAX_FRAME_BYTES = 1 << 20

export type Field = string | number | boolean

/** Every field, the last one included, ends with NUL — otherwise the client holds it back as a fragment. */
export const encodeFrame = (fields: ReadonlyArray<Field>): Buffer => {
  let body = ""
  for (const f of fields) body += (typeof f === "boolean" ? (f ? "1" : "0") : String(f)) + "\0"
  return encodeBody(body)
}

/** Frames an already NUL-joined body (each field including the last ending in NUL). */
export const encodeBody = (body: string): Buffer => {
  const payload = Buffer.from(body, "utf8")
  const frame = Buffer.allocUnsafe(4 + payload.length)
  frame.writeUInt32BE(payload.length, 0)
  payload.copy(frame, 4)
  return frame
}

export type Inbound =
  | { readonly _tag: "Hello"; readonly minVersion: number; readonly maxVersion: number; readonly options: string }
  | { readonly _tag: "Message"; readonly fields: ReadonlyArray<string> }
  /** A frame whose length was sound but whose body is not NUL-terminated fields: skipped, the stream stays in sync. */
  | { readonly _tag: "Unreadable"; readonly reason: string }

export class WireError extends Error {
  override readonly name = "WireError"
}

/**
 * Incremental decoder for one client connection. `push` returns every complete message in the chunk
 * and keeps partial data for the next call, so frames split across or packed into TCP chunks both work.
 */
export class InboundDecoder {
  private buf: Buffer = Buffer.alloc(0)
  private greeted = false

  push(chunk: Buffer): Array<Inbound> {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const out: Array<Inbound> = []
    for (;;) {
      if (!this.greeted) {
        if (this.buf.length < 8) {
          if (!"API\0".startsWith(this.buf.subarray(0, 4).toString("latin1"))) {
            throw new WireError("handshake does not start with API\\0")
          }
          return out
        }
        if (this.buf.toString("latin1", 0, 4) !== "API\0") throw new WireError("handshake does not start with API\\0")
        const len = this.buf.readUInt32BE(4)
        if (len > 1024) throw new WireError(`handshake version string of ${len} bytes`)
        if (this.buf.length < 8 + len) return out
        out.push(parseHello(this.buf.toString("latin1", 8, 8 + len)))
        this.buf = this.buf.subarray(8 + len)
        this.greeted = true
        continue
      }
      if (this.buf.length < 4) return out
      const len = this.buf.readUInt32BE(0)
      // Past this size the length itself is garbage and no later frame boundary can be trusted.
      if (len > MAX_FRAME_BYTES) throw new WireError(`frame length ${len}`)
      if (this.buf.length < 4 + len) return out
      const body = this.buf.toString("utf8", 4, 4 + len)
      this.buf = this.buf.subarray(4 + len)
      if (len === 0) out.push({ _tag: "Unreadable", reason: "empty frame" })
      else if (!body.endsWith("\0")) out.push({ _tag: "Unreadable", reason: "frame does not end with NUL" })
      else out.push({ _tag: "Message", fields: body.slice(0, -1).split("\0") })
    }
  }
}

/** `v100..193` optionally followed by connect options such as ` +PACEAPI`. */
const parseHello = (text: string): Inbound => {
  const m = /^v(\d+)(?:\.\.(\d+))?(?:\s+(.*))?$/.exec(text)
  if (!m) throw new WireError(`malformed version string ${JSON.stringify(text)}`)
  const min = Number(m[1])
  const max = m[2] === undefined ? min : Number(m[2])
  return { _tag: "Hello", minVersion: min, maxVersion: max, options: m[3] ?? "" }
}
