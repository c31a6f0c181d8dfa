/**
 * The store's file routines on node:fs/promises: streamed parse, head/tail peek, atomic replace, stray-temp sweep.
 * Every read and write is chunked through FileHandle calls, and each one is an event-loop turn, so a large series is
 * parsed and written in slices of ~1 MB and never holds the loop for long.
 */
import { randomBytes } from "node:crypto"
import { mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises"
import { basename, join } from "node:path"
import { Effect, Either } from "effect"
import { BarCsvParser, parseBarCsv, type CsvProblem, type ParsedBarCsv } from "../domain/barCsv.ts"
import type { BarSeries } from "../domain/barSeries.ts"
import { formatHeader, RowEncoder } from "../domain/barCsvFormat.ts"
import { CorruptData, NotFound, StorageError } from "../domain/dataErrors.ts"

const LF = 10, CR = 13, QUOTE = 34
/** Bytes per read: about 4.5k rows, ~0.5 ms of parsing between two event-loop turns. */
const READ_CHUNK = 256 * 1024
/** Room before each read chunk for the partial record the previous one ended with. */
const LEAD = 64 * 1024
/** Rows per formatted write slice (~0.4 MB of text, a few ms of formatting). */
const WRITE_ROWS = 8_192
/** Typical bytes per row of a minute or hourly series: sizes the parser's columns from the file size. */
const ROW_BYTES_GUESS = 48
/** Head/tail window of the range peek. */
const PEEK = 64 * 1024

const errorCode = (e: unknown): string | undefined => (e as { code?: unknown } | null)?.code as string | undefined
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

export const storageError = (file: string) => (e: unknown) => new StorageError({ file, message: describe(e) })
export const tryFs = <A>(file: string, f: () => Promise<A>): Effect.Effect<A, StorageError> =>
  Effect.tryPromise({ try: f, catch: storageError(file) })

/**
 * Series being parsed or written, held from a module-level root. Why: while a FileHandle request is pending, the
 * suspended fiber (and the 1M-bar arrays in its locals) is reachable only from Node's native request object, which
 * V8 traces late, in the atomic pause of a full GC — measured at 60–120 ms of main-thread marking for a 1M-bar
 * series. Reachable from an ordinary root, the same objects are marked concurrently while the loop keeps running.
 */
const inFlight = new Set<object>()
const rooted = <A, E, R>(value: object, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    inFlight.add(value)
    return Effect.ensuring(effect, Effect.sync(() => inFlight.delete(value)))
  })

const corrupt = (file: string, p: CsvProblem) => new CorruptData({ file, line: p.line, message: p.message })

/** Opens for reading; a missing file is NotFound, anything else a StorageError. */
const openRead = (file: string, what: string) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => open(file, "r"),
      catch: (e) => (errorCode(e) === "ENOENT"
        ? new NotFound({ what, message: `no stored bars for ${what} (${file})` })
        : storageError(file)(e))
    }),
    (fh) => Effect.promise(() => fh.close().catch(() => undefined))
  )

/** What a file's version is made of (a Stats object has these). */
export type FileStat = { readonly ino: number; readonly size: number; readonly mtimeMs: number }

/** Identity of a file version: a rename swaps the inode, so this changes whenever the file is replaced. */
export const fingerprint = (s: FileStat): string => `${s.ino}:${s.size}:${s.mtimeMs}`

export interface ParsedFile {
  readonly parsed: ParsedBarCsv
  readonly fingerprint: string
}

/**
 * Streams and parses a whole file, reading the next chunk while this one is parsed (the read runs on libuv's thread
 * pool, the parse on this thread, so a large file costs about the longer of the two rather than their sum).
 *
 * Two buffers take turns. A chunk is read at offset LEAD of one; the partial record the previous chunk ended with is
 * copied just before it, and the parser reads both as one run. A record longer than LEAD (only possible with huge
 * extra columns) drops to reading one chunk at a time into a growing buffer.
 */
export const readSeriesFile = (
  file: string,
  what: string
): Effect.Effect<ParsedFile, NotFound | CorruptData | StorageError> =>
  Effect.scoped(Effect.gen(function*() {
    const fh = yield* openRead(file, what)
    const stat = yield* tryFs(file, () => fh.stat())
    // rows expected from the size (KTRDR minute rows are ~50 bytes), so the columns are allocated about once
    const parser = new BarCsvParser(Math.ceil(stat.size / ROW_BYTES_GUESS) + 16)
    inFlight.add(parser)
    yield* Effect.addFinalizer(() => Effect.sync(() => inFlight.delete(parser)))
    const bufs = [new Uint8Array(LEAD + READ_CHUNK + 1), new Uint8Array(LEAD + READ_CHUNK + 1)] as const
    let position = 0
    /** A read at `position` into bufs[k] after LEAD; a rejection nobody awaits (the scope closed) is not unhandled. */
    const startRead = (k: 0 | 1) => {
      const p = fh.read(bufs[k], LEAD, READ_CHUNK, position)
      p.catch(() => undefined)
      return p
    }
    let k: 0 | 1 = 0
    let pending = startRead(k)
    let have = 0 // bytes of a partial record, just before LEAD in bufs[k]
    for (;;) {
      const { bytesRead } = yield* tryFs(file, () => pending)
      position += bytesRead
      const eof = bytesRead === 0
      const other: 0 | 1 = k === 0 ? 1 : 0
      if (!eof) pending = startRead(other)
      const buf = bufs[k]
      let end = LEAD + bytesRead
      if (eof && have > 0 && buf[end - 1] !== LF) buf[end++] = LF // the spare byte: the parser wants a final line feed
      const run = buf.subarray(LEAD - have, end)
      const used = parser.feed(run, run.length)
      if (typeof used !== "number") return yield* Effect.fail(corrupt(file, used))
      have = run.length - used
      if (eof) return yield* finished(parser, have, file, stat)
      if (have > LEAD) { // a record longer than LEAD: finish one chunk at a time
        const rest = run.slice(used)
        const { bytesRead: next } = yield* tryFs(file, () => pending)
        position += next
        return yield* readSequentially(fh, file, stat, parser, rest, bufs[other].subarray(LEAD, LEAD + next), position)
      }
      bufs[other].set(run.subarray(used), LEAD - have)
      k = other
    }
  }))

const finished = (parser: BarCsvParser, rest: number, file: string, stat: FileStat) => {
  const done = parser.finish(rest)
  return Either.isLeft(done)
    ? Effect.fail(corrupt(file, done.left))
    : Effect.succeed({ parsed: done.right, fingerprint: fingerprint(stat) })
}

/** The rest of a file one chunk at a time into one buffer that grows to hold the longest record. */
const readSequentially = (
  fh: FileHandle,
  file: string,
  stat: FileStat,
  parser: BarCsvParser,
  partial: Uint8Array,
  chunk: Uint8Array,
  from: number
) =>
  Effect.gen(function*() {
    let buf = new Uint8Array(Math.max(2 * (partial.length + chunk.length), READ_CHUNK) + 1)
    buf.set(partial)
    buf.set(chunk, partial.length)
    let have = partial.length + chunk.length
    let position = from
    let eof = chunk.length === 0
    for (;;) {
      if (!eof) {
        if (buf.length - 1 - have < READ_CHUNK / 4) {
          const bigger = new Uint8Array(buf.length * 2)
          bigger.set(buf.subarray(0, have))
          buf = bigger
        }
        const target = buf
        const { bytesRead } = yield* tryFs(file, () => fh.read(target, have, target.length - 1 - have, position))
        position += bytesRead
        have += bytesRead
        eof = bytesRead === 0
      }
      let len = have
      if (eof && len > 0 && buf[len - 1] !== LF) buf[len++] = LF
      const used = parser.feed(buf, len)
      if (typeof used !== "number") return yield* Effect.fail(corrupt(file, used))
      have = len - used
      if (eof) return yield* finished(parser, have, file, stat)
      if (have > 0) buf.copyWithin(0, used, len)
    }
  })

const readAt = (fh: FileHandle, file: string, length: number, position: number) =>
  Effect.map(
    tryFs(file, () => fh.read(new Uint8Array(length), 0, length, position)),
    (r) => r.buffer.subarray(0, r.bytesRead)
  )

const concatLines = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
    out[at++] = LF
  }
  return out
}

/**
 * First and last timestamps from the header, the first data line and the last line (KTRDR's cheap peek, in UTC).
 * Undefined when the cheap way cannot be trusted (small file, quotes, blank or odd lines): the caller then parses it
 * all, which also names the exact line of any defect.
 */
export const peekRange = (
  file: string,
  what: string
): Effect.Effect<{ first: number; last: number } | undefined, NotFound | StorageError> =>
  Effect.scoped(Effect.gen(function*() {
    const fh = yield* openRead(file, what)
    const { size } = yield* tryFs(file, () => fh.stat())
    if (size <= 2 * PEEK) return undefined
    const head = yield* readAt(fh, file, PEEK, 0)
    const nl1 = head.indexOf(LF)
    const nl2 = nl1 < 0 ? -1 : head.indexOf(LF, nl1 + 1)
    if (nl2 < 0 || head.subarray(0, nl2).includes(QUOTE)) return undefined
    const tail = yield* readAt(fh, file, PEEK, size - PEEK)
    let end = tail.length
    while (end > 0 && (tail[end - 1] === LF || tail[end - 1] === CR)) end--
    const start = tail.lastIndexOf(LF, end - 1) + 1
    if (start === 0 || tail.subarray(start, end).includes(QUOTE)) return undefined
    const header = head.subarray(0, nl1)
    const first = parseBarCsv(concatLines(header, head.subarray(nl1 + 1, nl2)))
    const last = parseBarCsv(concatLines(header, tail.subarray(start, end)))
    if (Either.isLeft(first) || Either.isLeft(last)) return undefined
    const a = first.right.time[0], b = last.right.time[0]
    return first.right.length > 0 && last.right.length > 0 ? { first: a!, last: b! } : undefined
  }))

const TEMP = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/

/** A temp name that no series listing matches (leading dot, `.tmp` suffix), with the writer's pid for the sweep. */
const tempName = (file: string): string =>
  join(file, "..", `.${basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`)

const writeBytes = (fh: FileHandle, file: string, bytes: Uint8Array) =>
  Effect.gen(function*() {
    let off = 0
    while (off < bytes.length) {
      const at = off
      off += (yield* tryFs(file, () => fh.write(bytes, at, bytes.length - at, null))).bytesWritten
    }
  })

/**
 * Replaces `file` atomically: a unique temp file beside it, written in slices, fsynced, renamed over the target,
 * then the directory fsynced so the rename itself survives a crash. Readers and crashes see the old or the new
 * file, never a mix. On failure or interruption before the rename the temp file is removed.
 */
export const writeSeriesFile = (dir: string, file: string, series: BarSeries): Effect.Effect<void, StorageError> =>
  Effect.gen(function*() {
    yield* tryFs(dir, () => mkdir(dir, { recursive: true }))
    const tmp = tempName(file)
    const fill = Effect.acquireUseRelease(
      tryFs(tmp, () => open(tmp, "wx", 0o644)),
      (fh) =>
        Effect.gen(function*() {
          yield* writeBytes(fh, tmp, Buffer.from(formatHeader(series.extraColumns), "utf8"))
          const encoder = new RowEncoder()
          for (let i = 0; i < series.length; i += WRITE_ROWS) {
            yield* writeBytes(fh, tmp, encoder.encode(series, i, Math.min(series.length, i + WRITE_ROWS)))
          }
          yield* tryFs(tmp, () => fh.sync())
        }),
      (fh) => Effect.promise(() => fh.close().catch(() => undefined))
    )
    // the rename is the commit point: once started it must not be abandoned half-way by an interrupt
    yield* fill.pipe(
      Effect.zipRight(Effect.uninterruptible(tryFs(file, () => rename(tmp, file)))),
      Effect.onError(() => Effect.promise(() => unlink(tmp).catch(() => undefined))),
      (write) => rooted(series, write)
    )
    yield* syncDir(dir)
  })

const syncDir = (dir: string) =>
  Effect.scoped(Effect.gen(function*() {
    const fh = yield* Effect.acquireRelease(tryFs(dir, () => open(dir, "r")), (fh) =>
      Effect.promise(() => fh.close().catch(() => undefined)))
    yield* tryFs(dir, () =>
      fh.sync())
  })).pipe(
    // the new file is already in place; a filesystem that cannot fsync directories only loses that last guarantee
    Effect.catchAll((e) => Effect.logWarning(`directory fsync failed: ${e.message}`))
  )

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return errorCode(e) === "EPERM"
  }
}

/** Removes temp files left by writers that died (SIGKILL, power loss); temp files of live processes are kept. */
export const sweepTempFiles = (dir: string): Effect.Effect<number> =>
  Effect.gen(function*() {
    const names = yield* Effect.promise(() => readdir(dir).catch(() => [] as Array<string>))
    let removed = 0
    for (const name of names) {
      const m = TEMP.exec(name)
      const pid = Number(m?.[2])
      if (!m || pid === process.pid || alive(pid)) continue
      yield* Effect.promise(() => unlink(join(dir, name)).then(() => removed++, () => undefined))
    }
    return removed
  })

export { errorCode }
