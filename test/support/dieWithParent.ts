/**
 * Preloaded (`node --import`) into every process the test harness spawns: when the test process dies without
 * cleaning up (SIGKILL, a crashed worker), the child is re-parented and its parent pid changes; it then kills
 * itself instead of holding ports, gateway sessions and database connections on a shared machine.
 */
const parent = process.ppid

setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, "SIGKILL")
}, 500).unref()

export {}
