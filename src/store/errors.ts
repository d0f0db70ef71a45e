/**
 * Named errors of the store layer, told apart by `name` (and a stable `code` for HTTP answers),
 * never by message text.
 *
 * - `StorageError` subclasses are operational failures: the disk or the data on it let us down.
 *   The node reports them (HTTP 5xx, push NACK) and never acknowledges what it could not write.
 * - `StoreMisuseError` subclasses are bugs or races in the caller: the store refused a request
 *   that would have broken one of its invariants, and wrote nothing.
 */

export abstract class StorageError extends Error {
  abstract readonly code: string
}

/** A value read from disk does not decode, or an index points at nothing. The key is in the message. */
export class StorageCorruptionError extends StorageError {
  override readonly name = 'StorageCorruptionError'
  readonly code = 'storage_corruption'
}

/** The data directory holds a database of another format version (or not ours at all). */
export class StorageFormatError extends StorageError {
  override readonly name = 'StorageFormatError'
  readonly code = 'storage_format'
}

/** The atomic batch was not written (disk full, I/O error, database closed underneath). Nothing
 *  of it is stored; `cause` holds the underlying error. */
export class StorageWriteError extends StorageError {
  override readonly name: string = 'StorageWriteError'
  readonly code: string = 'storage_write_failed'
}

export abstract class StoreMisuseError extends Error {
  abstract readonly code: string
}

/** A method was called before `open()` or after `close()`. */
export class StoreNotOpenError extends StoreMisuseError {
  override readonly name = 'StoreNotOpenError'
  readonly code = 'store_not_open'
}

/** A commit carries an event that is already stored (or twice in the batch): the batch was
 *  computed against a stale view, so its target states may count the event twice. */
export class DuplicateEventError extends StoreMisuseError {
  override readonly name = 'DuplicateEventError'
  readonly code = 'duplicate_event'
}

/** A commit carries an event whose (author, event_id) already belongs to another digest: an
 *  equivocation the caller should have refused (the first event is kept). */
export class EventIdTakenError extends StoreMisuseError {
  override readonly name = 'EventIdTakenError'
  readonly code = 'event_id_taken'
}

/** An argument or record is outside what the store accepts (limit, hlc key, status, bytes). */
export class InvalidStoreArgumentError extends StoreMisuseError {
  override readonly name = 'InvalidStoreArgumentError'
  readonly code = 'invalid_store_argument'
}

/** The store's files are damaged (a missing CURRENT, a corrupt MANIFEST, a missing or garbled
 *  table file). The message names the file and what to do; the store was not opened and
 *  nothing on disk was changed. */
export class StorageDamagedError extends StorageError {
  override readonly name = 'StorageDamagedError'
  readonly code = 'storage_damaged'
}

/** Another process holds the data directory's LevelDB `LOCK`: a node is already running on it. */
export class StoreLockedError extends StorageError {
  override readonly name = 'StoreLockedError'
  readonly code = 'store_locked'
}

/** The disk holding the store is full: the write (or the open) was refused, nothing of it is
 *  stored. Writes resume once space is freed. */
export class StorageFullError extends StorageWriteError {
  override readonly name = 'StorageFullError'
  override readonly code = 'storage_full'
}

/** The store could not be opened for another reason (permissions, an I/O error); the message
 *  says which and names the directory. */
export class StorageOpenError extends StorageError {
  override readonly name = 'StorageOpenError'
  readonly code = 'storage_open_failed'
}
