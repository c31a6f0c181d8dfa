/**
 * The live progress of a load, drawn on stderr from the operation's event stream (so `-f json` keeps
 * stdout clean): on a terminal one line redrawn in place (phase, segment i/N, bars, percentage, ETA),
 * at most 10 times a second; when stderr is a pipe or file, a line per phase change and at most one
 * every 2 s otherwise, instead of carriage-return noise. KTRDR polled every second; events arrive as they happen.
 */
import { Effect, Ref } from "effect"
import type { OperationInfo } from "../domain/operation.ts"
import { fmtInt } from "./render.ts"

export interface ProgressLine {
  /** Set while the load waits for the gateway: the line is this text alone, no percentage or ETA. */
  readonly waiting?: string | undefined
  readonly phase: string
  readonly percentage: number
  readonly segments: string | null
  readonly bars: number
  readonly etaSeconds: number | null
}

const BAR_WIDTH = 24

export const fmtEta = (s: number | null): string => {
  if (s === null || !Number.isFinite(s)) return "--:--"
  const total = Math.max(0, Math.round(s))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const sec = total % 60
  const mm = String(m).padStart(2, "0")
  const ss = String(sec).padStart(2, "0")
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`
}

/**
 * ETA from the average rate since `fromPct` (0: the start; after a wait for the gateway: where the load
 * resumed); unknown until there is measurable progress.
 */
export const eta = (pct: number, elapsedSeconds: number, fromPct = 0): number | null => {
  const done = pct - fromPct
  // Under 2 s of measurement the rate is noise (a load failing at once would show "ETA 00:01").
  return done <= 0.5 || pct >= 100 || elapsedSeconds < 2 ? null : (elapsedSeconds * (100 - pct)) / done
}

export const lineOf = (info: OperationInfo, elapsedSeconds: number, fromPct = 0): ProgressLine => {
  const p = info.progress
  return {
    waiting: p.phase === "waiting_for_gateway" ? p.current_step ?? "waiting for gateway" : undefined,
    phase: p.phase ?? p.current_step ?? info.status,
    percentage: p.percentage,
    segments: p.items_total !== null && p.items_total > 0 ? `${p.items_processed}/${p.items_total}` : null,
    bars: p.bars_fetched ?? 0,
    etaSeconds: eta(p.percentage, elapsedSeconds, fromPct)
  }
}

export const renderLine = (l: ProgressLine, tty: boolean): string => {
  if (l.waiting !== undefined) return tty ? `⏳ ${l.waiting}` : l.waiting
  const pct = Math.max(0, Math.min(100, l.percentage))
  const seg = l.segments === null ? "" : `  segment ${l.segments}`
  const text = `${l.phase}${seg}  ${fmtInt(l.bars)} bars  ${pct.toFixed(0).padStart(3)}%  ETA ${fmtEta(l.etaSeconds)}`
  if (!tty) return text
  const filled = Math.round((pct / 100) * BAR_WIDTH)
  return `[${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}] ${text}`
}

export interface ProgressView {
  readonly update: (info: OperationInfo) => Effect.Effect<void>
  /** Leaves the terminal on a fresh line. */
  readonly done: Effect.Effect<void>
}

export const progressView = (enabled: boolean): Effect.Effect<ProgressView> =>
  Effect.gen(function*() {
    const out = process.stderr
    const tty = out.isTTY === true
    // The ETA's rate is measured from the last time the load was not waiting for the gateway: time spent
    // waiting says nothing about how fast the rest will go.
    const base = { at: Date.now(), pct: 0, waiting: false }
    const state = yield* Ref.make({ key: "", drawnAt: 0, drawn: false })
    if (!enabled) return { update: () => Effect.void, done: Effect.void }
    const update = (info: OperationInfo) =>
      Effect.gen(function*() {
        const waiting = info.progress.phase === "waiting_for_gateway"
        if (base.waiting && !waiting) Object.assign(base, { at: Date.now(), pct: info.progress.percentage })
        base.waiting = waiting
        const line = lineOf(info, (Date.now() - base.at) / 1000, base.pct)
        const s = yield* Ref.get(state)
        const now = Date.now()
        if (tty) {
          if (now - s.drawnAt < 100 && line.percentage < 100) return
          out.write(`\r\x1b[K${renderLine(line, true)}`)
          yield* Ref.set(state, { key: "", drawnAt: now, drawn: true })
          return
        }
        // Pipes and files: a line at each phase change, else at most one every 2 s (a log, not an animation).
        if (line.phase === s.key && now - s.drawnAt < 2000) return
        out.write(`${renderLine(line, false)}\n`)
        yield* Ref.set(state, { key: line.phase, drawnAt: now, drawn: true })
      })
    const done = Effect.flatMap(Ref.get(state), (s) =>
      Effect.sync(() => {
        if (tty && s.drawn) out.write("\n")
      }))
    return { update, done }
  })
