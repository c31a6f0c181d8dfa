/** Typed failures of the data layer; each crosses HTTP and CLI boundaries with its fields intact. */
import { Schema } from "effect"

/** Bad input from a user or caller: nothing is read or written before it is rejected. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  field: Schema.String,
  value: Schema.String,
  message: Schema.String
}) {}

/** A stored file that cannot be parsed. It is never overwritten. */
export class CorruptData extends Schema.TaggedError<CorruptData>()("CorruptData", {
  file: Schema.String,
  /** 1-based line number, 0 when the problem is not on one line. */
  line: Schema.Number,
  message: Schema.String
}) {}

/** An unexpected I/O failure of the store (permissions, disk full…). */
export class StorageError extends Schema.TaggedError<StorageError>()("StorageError", {
  file: Schema.String,
  message: Schema.String
}) {}

/** Something asked for does not exist (no stored series, unknown operation). */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", {
  what: Schema.String,
  message: Schema.String
}) {}
