/**
 * The `data show` lane (dist/chunks/cli-show-<hash>.cjs): `ktrdr data show` without Effect's runtime or @effect/cli,
 * which were most of the command's start (evaluating them ~22 ms, parsing 7, the client 5, on a ~23 ms Node boot).
 * The launcher (cliLaunch.ts) runs it first for `data show …`; it answers only what it is sure to answer exactly
 * as the full program does, and otherwise resolves false and the full program runs as before:
 * - the command line is read by showArgs.ts, which declines anything but a plain subset (help, usage errors and
 *   their texts stay the full program's);
 * - the one GET goes over node:http as barsRequest.ts sends it; a 200 is rendered only when its body has the shape
 *   of the endpoint's own success schema (derived from it by the build, checked and decoded by showCheck.ts as the
 *   schema decodes), a 404 only when it is DATA-NotFound; any other status, a transport error or a body that does
 *   not check is declined, and the full program sends the GET again (GET /data is read-only);
 * - the output is showOutput.ts's, the full program's own code, with tables drawn only when plainTable.ts draws them.
 * Not effect/Schema itself: evaluating it cost ~7 ms with the code cache (bench/cli-start.bench.ts).
 * KTRDR_TIMING=1 prints the lane's marks (and why it declined, when it did).
 */
import { writeSync } from "node:fs"
import * as Http from "node:http"
import { exitWhenFlushed } from "../cli/flushExit.ts"
import { plainTableOrUndefined } from "../cli/plainTable.ts"
import { parseShowArgs, type ShowRequest } from "../cli/showArgs.ts"
import { type AnswerShapes, checkAnswer } from "../cli/showCheck.ts"
import { barsOutput, emitDirect, notStoredOutput, type Write } from "../cli/showOutput.ts"

/** The shapes of the bars endpoint's success schema and of the failure envelope, derived by the build. */
declare const KTRDR_SHOW_SHAPES: AnswerShapes

const timing = process.env["KTRDR_TIMING"] === "1"
const marks: Array<readonly [string, number]> = []
const mark = (name: string) => {
  if (timing) marks.push([name, Math.round(performance.now() * 10) / 10])
}
mark("lane-script")

/** Ctrl-C or SIGTERM while the lane waits: the full program's exit codes (exit.ts: 130, 143), nothing printed. */
const onSignal = (signal: NodeJS.Signals) => process.exit(signal === "SIGINT" ? 130 : 143)

const declined = (reason: string): false => {
  // The full program installs its own.
  process.removeListener("SIGINT", onSignal)
  process.removeListener("SIGTERM", onSignal)
  if (timing) process.stderr.write(`KTRDR_SHOW_LANE declined: ${reason}\n`)
  return false
}

/** A status and the body read as barsRequest.ts reads it (UTF-8 by TextDecoder), or why there is none. */
type Reply = { readonly status: number; readonly body: string } | string

/** One GET; `onSent` runs once the request is handed to the socket. */
const get = (r: ShowRequest, onSent: () => void) =>
  new Promise<Reply>((resolve) => {
    const agent = new Http.Agent({ keepAlive: true })
    mark("http")
    const done = (x: Reply) => {
      agent.destroy()
      resolve(x)
    }
    let req: Http.ClientRequest
    try {
      req = Http.request(r.url, { agent, method: "GET", headers: r.headers }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => void chunks.push(c))
        res.on("error", () => done("response error"))
        res.on("end", () =>
          done(
            res.complete
              ? { status: res.statusCode ?? 0, body: new TextDecoder().decode(Buffer.concat(chunks)) }
              : "incomplete response"
          ))
        res.on("close", () => done("response closed"))
      })
    } catch (e) {
      // e.g. a token that is no valid header value.
      done(`request refused: ${e instanceof Error ? e.message : String(e)}`)
      return
    }
    req.on("error", (e) => done(`transport: ${e.message}`))
    req.once("finish", onSent)
    req.end()
  })

/**
 * Answers `ktrdr data show <args>` and exits the process once its output is flushed; resolves false (having
 * printed nothing) when it declines.
 */
export const show = async (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Promise<boolean> => {
  const parsed = parseShowArgs(args, env)
  mark("parsed")
  if (parsed._tag === "Decline") return declined(parsed.reason)
  const { view } = parsed.request
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  const reply = await get(parsed.request, () => mark("sent"))
  mark("response")
  if (typeof reply === "string") return declined(reply)
  let body: unknown
  try {
    if (reply.body === "") return declined("empty body")
    body = JSON.parse(reply.body)
  } catch {
    return declined("body is no JSON")
  }
  const checked = checkAnswer(KTRDR_SHOW_SHAPES, reply.status, body)
  mark("checked")
  let writes: ReadonlyArray<Write> | undefined
  try {
    writes = checked._tag === "Bars"
      ? barsOutput(view, checked.data, plainTableOrUndefined)
      : checked._tag === "NotStored"
      ? notStoredOutput(view)
      : undefined
  } catch (e) {
    return declined(`render: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (writes === undefined) return declined(checked._tag === "Other" ? checked.reason : "table not plain")
  const streamed = emitDirect(writes)
  mark("written")
  if (timing) {
    process.once("exit", () => {
      mark("exit-event")
      // Not through process.stderr: making that stream would be part of what is measured.
      writeSync(2, `KTRDR_TIMING ${JSON.stringify({ ...Object.fromEntries(marks), lane: 1 })}\n`)
    })
  }
  // Reading process.stdout or process.stderr makes the stream (~4 ms): only when a write went through one.
  if (streamed) exitWhenFlushed(0)
  else process.exit(0)
  return true
}
