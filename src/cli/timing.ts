/**
 * Start-up marks for the benchmark (`KTRDR_TIMING=1`): milliseconds since the process started
 * (performance.now's origin), printed to stderr as one JSON line at exit. Off by default; a mark is
 * then one comparison.
 */
const enabled = process.env["KTRDR_TIMING"] === "1"
const marks: Array<readonly [string, number]> = []

export const mark = (name: string) => {
  if (enabled) marks.push([name, Math.round(performance.now() * 10) / 10])
}

if (enabled) {
  process.on("exit", () => {
    mark("exit-event")
    process.stderr.write(`KTRDR_TIMING ${JSON.stringify(Object.fromEntries(marks))}\n`)
  })
}
