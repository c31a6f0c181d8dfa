/**
 * Start-up marks for the benchmark (`KTRDR_TIMING=1`): milliseconds since the process started
 * (performance.now's origin), printed to stderr as one JSON line at exit. Off by default; a mark is
 * then one comparison. The variable is read at the first mark, not when this module is evaluated: in
 * the startup snapshot, evaluation happened when the snapshot was built.
 */
let enabled: boolean | undefined
const marks: Array<readonly [string, number]> = []

export const mark = (name: string) => {
  if (enabled === undefined) {
    enabled = process.env["KTRDR_TIMING"] === "1"
    if (enabled) {
      process.on("exit", () => {
        mark("exit-event")
        process.stderr.write(`KTRDR_TIMING ${JSON.stringify(Object.fromEntries(marks))}\n`)
      })
    }
  }
  if (enabled) marks.push([name, Math.round(performance.now() * 10) / 10])
}
