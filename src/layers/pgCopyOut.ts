/**
 * `COPY … TO STDOUT` read straight off the connection's socket. PostgreSQL sends one CopyData message per row; a
 * generic COPY stream (pg-copy-streams' `to`) allocates a Buffer per message and concatenates them again, which for a
 * million 74-byte rows cost more CPU than the server spent producing them. Here each socket chunk is walked once and
 * every CopyData payload handed to `sink` as a range of that chunk.
 *
 * How it takes over the socket is pg-copy-streams' method: node-postgres lets a Submittable run a query; while the
 * COPY data flows, node-postgres' own 'data' listener is swapped out, and it is put back — with the bytes that
 * follow the data — at CopyDone or at an ErrorResponse, so node-postgres parses CommandComplete, ReadyForQuery or
 * the error itself and calls this query's handlers as for any query. A dead socket reaches `handleError` directly.
 */
import type { Connection, Submittable } from "pg"

const COPY_DATA = 0x64, COPY_DONE = 0x63, ERROR = 0x45
const DETACHED = -1

export interface CopySink {
  /** The payload [start, end) of one CopyData message in `buf` (`view` spans all of `buf`). */
  readonly feed: (buf: Buffer, view: DataView, start: number, end: number) => void
  /** Optionally, a run of whole CopyData messages from `p` taken at once; where it stopped (`p` if none). */
  readonly messages?: (view: DataView, p: number, end: number) => number
}

export class CopyOutQuery implements Submittable {
  private connection: Connection | undefined
  private pgData: ((b: Buffer) => void) | undefined
  private carry: Buffer | undefined
  private failure: unknown
  private finished = false
  rowCount = 0

  constructor(
    readonly text: string,
    private readonly sink: CopySink,
    private readonly settle: (error: unknown) => void
  ) {}

  /** node-postgres overwrites this with its query_timeout hook when one is configured; called when done. */
  callback(): void {}

  /** An Error returned here is handed to handleError by node-postgres. */
  submit(connection: Connection): Error | undefined {
    const stream = connection.stream
    const listeners = stream.listeners("data") as Array<(b: Buffer) => void>
    if (listeners.length !== 1) return new Error("COPY OUT: the connection has no single data listener to take over")
    this.connection = connection
    this.pgData = listeners[0]
    stream.removeListener("data", this.pgData!)
    stream.on("data", this.onData)
    connection.query(this.text)
    return undefined
  }

  private readonly onData = (chunk: Buffer): void => {
    let p = 0
    if (this.carry !== undefined) {
      // a message straddled the previous chunk: copy just its bytes together, not the whole chunk
      const carry = this.carry
      const head = carry.length >= 5 ? carry : Buffer.concat([carry, chunk.subarray(0, 5 - carry.length)])
      const need = head.length < 5 ? Infinity : 1 + head.readUInt32BE(1) - carry.length
      if (need > chunk.length) {
        this.carry = Buffer.concat([carry, chunk])
        return
      }
      this.carry = undefined
      const message = Buffer.concat([carry, chunk.subarray(0, need)])
      const at = this.walk(message, 0)
      if (at === DETACHED) {
        // the message was CopyDone or an error: node-postgres also needs what follows it
        if (this.detachedAt < message.length) {
          return this.pgData!(Buffer.concat([message.subarray(this.detachedAt), chunk.subarray(need)]))
        }
        if (need < chunk.length) this.pgData!(chunk.subarray(need))
        return
      }
      p = need
    }
    const at = this.walk(chunk, p)
    if (at === DETACHED) {
      if (this.detachedAt < chunk.length) this.pgData!(chunk.subarray(this.detachedAt))
      return
    }
    if (at < chunk.length) this.carry = Buffer.from(chunk.subarray(at))
  }

  private detachedAt = 0

  /**
   * The whole messages of `buf` from `p` on; where the first incomplete one starts, or DETACHED (the socket handed
   * back to node-postgres, which must still be given the bytes from `detachedAt` on).
   */
  private walk(buf: Buffer, p: number): number {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const messages = this.failure === undefined ? this.sink.messages : undefined
    while (p + 5 <= buf.length) {
      if (messages !== undefined) p = messages(view, p, buf.length)
      if (p + 5 > buf.length) break
      const code = buf[p]!
      if (code === ERROR) return this.detach(p)
      const end = p + 1 + view.getUint32(p + 1)
      if (end > buf.length) return p
      if (code === COPY_DATA && this.failure === undefined) {
        try {
          this.sink.feed(buf, view, p + 5, end)
        } catch (e) {
          this.failure = e // keep consuming: the connection must reach ReadyForQuery before it is usable
        }
      }
      if (code === COPY_DONE) return this.detach(end)
      // CopyOutResponse, NoticeResponse, ParameterStatus, NotificationResponse: nothing to do
      p = end
    }
    return p
  }

  /** Gives the socket back to node-postgres, from `at` in the current buffer. */
  private detach(at: number): typeof DETACHED {
    const connection = this.connection!
    connection.stream.removeListener("data", this.onData)
    connection.stream.on("data", this.pgData!)
    this.detachedAt = at
    return DETACHED
  }

  handleCommandComplete(msg: { readonly text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? "")
    if (m) this.rowCount = Number(m[1])
  }

  handleReadyForQuery(): void {
    this.finish(this.failure)
  }

  handleError(e: unknown): void {
    // after an ErrorResponse the socket is node-postgres' again; after a dead socket nobody's: stop listening
    this.connection?.stream.removeListener("data", this.onData)
    this.finish(e)
  }

  private finish(error: unknown): void {
    if (this.finished) return
    this.finished = true
    this.callback()
    this.settle(error)
  }
}
