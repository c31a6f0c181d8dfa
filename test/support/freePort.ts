/** A TCP port free on 127.0.0.1 right now (the OS picks it; another process could still take it before we bind). */
import { createServer } from "node:net"

export const freePort = (): Promise<number> =>
  new Promise<number>((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))))
    })
  })
