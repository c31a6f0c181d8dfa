/**
 * The socket of a pooled PostgreSQL connection, reading into one buffer it reuses. A plain socket allocates a new
 * 64 KB buffer for every read; a large read (40 MB of COPY data for a year of minutes) then leaves hundreds of
 * them behind, and V8 answers that much external memory with full collections of the whole heap — in a server, a
 * cost of the order of the decoding itself. Here a COPY OUT in progress (pgCopyOut.ts) takes each read's bytes
 * where they lie and keeps nothing of them; every other read is copied out and emitted as 'data', as node-postgres
 * expects (its parser may keep a reference to a partial message).
 */
import { type OnReadOpts, Socket, type SocketConstructorOpts } from "node:net"

/** Bytes per read: a few socket buffers' worth, so a large COPY arrives in few callbacks. */
const READ_BYTES = 256 * 1024

export class ReusedBufferSocket extends Socket {
  /** While set, each read's bytes go here, valid only during the call, instead of being emitted as 'data'. */
  copySink: ((chunk: Buffer) => void) | undefined = undefined

  constructor() {
    const target: { socket?: ReusedBufferSocket } = {}
    const onread: OnReadOpts = {
      buffer: Buffer.allocUnsafe(READ_BYTES),
      callback: (n, buf) => {
        target.socket!.dispatch(buf as Buffer, n)
        return true
      }
    }
    // Node takes `onread` in the constructor too (net.connect passes it there); @types/node lists it only for connect
    super({ onread } as SocketConstructorOpts)
    target.socket = this
  }

  private dispatch(buf: Buffer, n: number): void {
    const chunk = buf.subarray(0, n)
    if (this.copySink !== undefined) this.copySink(chunk)
    else this.emit("data", Buffer.from(chunk))
  }
}

/**
 * node-postgres' `stream` option: our socket for plain connections; a plain one for TLS, which wraps the socket
 * itself and reads through its own layer.
 */
export const pgSocket = (config?: { readonly ssl?: unknown }): Socket =>
  config?.ssl !== undefined && config.ssl !== false ? new Socket() : new ReusedBufferSocket()
