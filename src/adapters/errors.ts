/** Errors of the adapters, told apart by `name`. */

/** A sink is configured wrongly (unknown kind, bad URL, bad prefix). Local misuse. */
export class SinkConfigError extends Error {
  override readonly name = 'SinkConfigError'
}

/**
 * A batch's `fromSeq` is not the checkpoint the store holds: another runner applied batches to
 * the same store under the same sink name, or the store was restored from a backup. The batch
 * is not applied; the runner reads the checkpoint again and continues from there.
 */
export class SinkCheckpointMismatchError extends Error {
  override readonly name = 'SinkCheckpointMismatchError'
  readonly sink: string
  readonly expected: number
  readonly stored: number
  constructor(sink: string, expected: number, stored: number) {
    super(`sink ${sink}: the store's checkpoint is ${stored}, the batch starts at ${expected}`)
    this.sink = sink
    this.expected = expected
    this.stored = stored
  }
}

/** The store refused or failed a batch (connection lost, constraint, disk full). Operational. */
export class SinkApplyError extends Error {
  override readonly name = 'SinkApplyError'
}

/** A value the store cannot hold as the sink maps it (e.g. a vector of another dimension than
 *  a vector store's table). The target is skipped and counted; the sink goes on. */
export class SinkUnsupportedValueError extends Error {
  override readonly name = 'SinkUnsupportedValueError'
}
