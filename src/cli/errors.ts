/**
 * How a failed command ends: one clear message on stderr (IB code, request id and category kept) and
 * an exit code — 1 for failures, 2 for usage errors found after parsing. KTRDR wrapped every error into
 * "Unexpected error making API request" and lost the status; here each class has its own message.
 */
import { Data, Effect } from "effect"
import { printErr } from "./render.ts"
import { API_ERROR_TAGS } from "../contract/envelope.ts"

/** Bad usage noticed after parsing (e.g. --start after --end): exit 2 like a parse error. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {}

/** The command already printed why it failed (a load that failed, an unhealthy gateway): exit 1, nothing more. */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly reason: string }> {}

/** The server is not there: one line, no stack, no retries. */
export class ServerUnreachable
  extends Data.TaggedError("ServerUnreachable")<{ readonly url: string; readonly code: string }>
{}

const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"])

interface Tagged {
  readonly _tag: string
}
const isTagged = (u: unknown): u is Tagged & Record<string, unknown> =>
  typeof u === "object" && u !== null && "_tag" in u

const causeCode = (cause: unknown): string | undefined => {
  if (typeof cause !== "object" || cause === null) return undefined
  const c = cause as { code?: unknown; cause?: unknown; errors?: ReadonlyArray<unknown> }
  if (typeof c.code === "string") return c.code
  // AggregateError (IPv4 + IPv6 attempts) and fetch's TypeError carry the code one level down.
  return causeCode(c.cause) ?? (c.errors ? c.errors.map(causeCode).find((x) => x !== undefined) : undefined)
}

/** Turns a transport failure into ServerUnreachable when the server is simply not listening. */
export const unreachable = (target: string) => (e: unknown): ServerUnreachable | undefined => {
  if (!isTagged(e) || e._tag !== "RequestError" || e["reason"] !== "Transport") return undefined
  const code = causeCode(e["cause"])
  return code !== undefined && UNREACHABLE.has(code) ? new ServerUnreachable({ url: target, code }) : undefined
}

/** The IB code, request id and category of an error's details (and the symbol suggestions), if it came from IB. */
export const ibLines = (details: Readonly<Record<string, unknown>> | null | undefined): ReadonlyArray<string> => {
  if (details === null || details === undefined) return []
  const lines: Array<string> = []
  if (typeof details["ib_code"] === "number") {
    const parts = [`IB error ${details["ib_code"]}`]
    if (typeof details["req_id"] === "number" && details["req_id"] >= 0) parts.push(`request ${details["req_id"]}`)
    if (typeof details["category"] === "string") parts.push(details["category"])
    lines.push(`  ${parts.join(", ")}`)
  }
  const suggestions = details["suggestions"]
  if (Array.isArray(suggestions) && suggestions.length > 0) lines.push(`  Did you mean: ${suggestions.join(", ")}?`)
  return lines
}

/** The message lines and exit code of any failure a command can end with. */
export const describe = (
  e: unknown,
  target: string
): { readonly lines: ReadonlyArray<string>; readonly code: number } => {
  const down = unreachable(target)(e)
  if (down) return describe(down, target)
  if (!isTagged(e)) return { lines: [`Error: ${e instanceof Error ? e.message : String(e)}`], code: 1 }
  switch (e._tag) {
    case "UsageError":
      return { lines: [`Error: ${(e as unknown as UsageError).message}`], code: 2 }
    case "CommandFailed":
      return { lines: [], code: 1 }
    case "ServerUnreachable": {
      const s = e as unknown as ServerUnreachable
      return {
        lines: [`Error: no ktrdr server at ${s.url} (${s.code}); start one with \`ktrdr serve\` or use \`--embedded\``],
        code: 1
      }
    }
    case "RequestError":
      return {
        lines: [`Error: request to ${target} failed: ${String((e as { message?: unknown }).message ?? e["reason"])}`],
        code: 1
      }
    case "ResponseError":
      return {
        lines: [
          `Error: unexpected answer from ${target}: ${String((e as { message?: unknown }).message ?? e["reason"])}`
        ],
        code: 1
      }
    case "TimeoutException":
      return { lines: [`Error: ${target} did not answer in time`], code: 1 }
    case "ParseError":
      return {
        lines: [
          `Error: the answer from ${target} does not match this ktrdr's API (different versions?)`,
          `  ${String(e["message"])}`
        ],
        code: 1
      }
  }
  if (API_ERROR_TAGS.has(e._tag)) {
    const a = e as unknown as { code: string; message: string; details: Record<string, unknown> | null; _tag: string }
    const hint = a._tag === "Unauthorized" ? ["  The server needs a token: set KTRDR_API_TOKEN."] : []
    return { lines: [`Error: ${a.message} [${a.code}]`, ...ibLines(a.details), ...hint], code: 1 }
  }
  // Platform errors (ServeError, SystemError…) often keep the useful text on their cause.
  const cause = e["cause"] as { readonly message?: unknown } | undefined
  const message = [e["message"], cause?.message].find((m): m is string => typeof m === "string" && m !== "") ?? e._tag
  return { lines: [`Error: ${e._tag === "ServeError" ? `the server cannot listen: ${message}` : message}`], code: 1 }
}

/** A failure already reported on stderr; only its exit code is left to apply. */
export class ExitCode extends Data.TaggedError("ExitCode")<{ readonly code: number }> {}

/** Prints the failure and turns it into its exit code. */
export const report = (e: unknown, target: string): Effect.Effect<never, ExitCode> => {
  if (isTagged(e) && e._tag === "ExitCode") return Effect.fail(e as unknown as ExitCode)
  const d = describe(e, target)
  return Effect.zipRight(printErr(...d.lines), Effect.fail(new ExitCode({ code: d.code })))
}
