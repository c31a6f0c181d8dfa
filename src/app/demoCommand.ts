/**
 * `ktrdr sim`'s command: only its options, here apart from src/app/demo.ts, so that evaluating the
 * `ktrdr` bin's command tree does not evaluate the simulator (its catalog, calendars and luxon zones
 * cost ~15 ms at every start); the simulator is imported when the command runs.
 */
export { simCommand } from "../sim/command.ts"
