/**
 * Errors the CLI expects and explains without a stack trace. Each carries its exit code:
 * 1 for a usage or config mistake, 2 for a request the node refused or could not answer.
 */

/** The command line or the config is wrong: fix the invocation. Exit code 1. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError'
  readonly exitCode = 1
}

/** The node could not be reached, or refused or failed the request. Exit code 2. */
export class RequestFailedError extends Error {
  override readonly name = 'RequestFailedError'
  readonly exitCode = 2
  /** HTTP status, when the node answered. */
  readonly status: number | undefined
  /** The node's error code (`invalid_request`, `unauthorized`, ...), when it answered. */
  readonly code: string | undefined

  constructor(message: string, opts: { status?: number; code?: string; cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.status = opts.status
    this.code = opts.code
  }
}

export const EXIT_OK = 0
export const EXIT_USAGE = 1
export const EXIT_REQUEST_FAILED = 2
