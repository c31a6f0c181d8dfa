/**
 * Exits as soon as the program is done, once stdout and stderr have flushed (they are asynchronous for
 * pipes outside Linux). Waiting for the event loop to drain instead costs 20–40 ms per command (closing
 * handles that the command's scope has already released). Without Effect: the `data show` lane exits the same way.
 */
export const exitWhenFlushed = (c: number) => {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0)
  if (pending.length === 0) process.exit(c)
  let left = pending.length
  for (const s of pending) {
    s.once("drain", () => {
      if (--left === 0) process.exit(c)
    })
  }
}
