/**
 * The HTTP API's errors and the one table that turns any error into a status and a body
 * `{ error: <code>, message: <text a person understands> }`.
 *
 * Errors are told apart by `name` (core and node errors) or `code` (fastify's), never by
 * message text. What the caller did wrong is answered with the error's own message; anything
 * else is a 500 with a generic message, and the error itself goes to the log.
 */
import { EventRejectedError, LocalMisuseError } from '../core/errors.ts'

/** An error this layer raises about a request. `status` and `code` go into the answer. */
export abstract class HttpRequestError extends Error {
  abstract readonly status: number
  abstract readonly code: string
}

/** A request body, query or path parameter is malformed; the message names the field. */
export class BadRequestError extends HttpRequestError {
  override readonly name = 'BadRequestError'
  readonly status = 400
  readonly code = 'invalid_request'
}

/** A bearer token is configured and the request did not carry it. */
export class UnauthorizedError extends HttpRequestError {
  override readonly name = 'UnauthorizedError'
  readonly status = 401
  readonly code = 'unauthorized'
}

/** No such route, or no such resource (a target with no state). */
export class NotFoundError extends HttpRequestError {
  override readonly name = 'NotFoundError'
  readonly status = 404
  readonly code = 'not_found'
}

/** More events in one push than the node takes (PUSH_EVENTS_MAX). */
export class TooManyEventsError extends HttpRequestError {
  override readonly name = 'TooManyEventsError'
  readonly status = 413
  readonly code = 'too_many_events'
}

/** A POST whose body is not `application/json`. */
export class UnsupportedMediaTypeError extends HttpRequestError {
  override readonly name = 'UnsupportedMediaTypeError'
  readonly status = 415
  readonly code = 'unsupported_media_type'
}

/** POST /peers on a node started without the mesh. */
export class MeshDisabledError extends HttpRequestError {
  override readonly name = 'MeshDisabledError'
  readonly status = 409
  readonly code = 'mesh_disabled'
}

/** A peer could not be dialled (unreachable, refused, handshake failed). */
export class DialFailedError extends HttpRequestError {
  override readonly name = 'DialFailedError'
  readonly status = 502
  readonly code = 'dial_failed'
}

export interface ErrorBody {
  error: string
  message: string
}

export interface ErrorAnswer {
  status: number
  body: ErrorBody
  /** Extra response headers (`Retry-After`, `WWW-Authenticate`). */
  headers?: Record<string, string>
  /** True when the error is ours, not the caller's: log it, answer generically. */
  internal: boolean
}

/**
 * Core and node errors by `name`. The caller's faults carry their own message; operational
 * ones get the fixed text here. EventRejectedError subclasses are answered per event inside a
 * push result; when one escapes another operation (a resolution whose event is refused) it is
 * still the caller's fault: 400.
 */
const BY_NAME: Readonly<
  Record<string, { status: number; message?: string; retryAfterS?: number; log?: boolean }>
> = {
  // EventRejectedError subclasses (src/core/errors.ts)
  MalformedEventError: { status: 400 },
  UnknownEventTypeError: { status: 400 },
  PayloadTooLargeError: { status: 400 },
  InvalidPayloadError: { status: 400 },
  BadSignatureError: { status: 400 },
  UnknownAuthorError: { status: 400 },
  ClockDriftError: { status: 400 },
  EquivocationError: { status: 400 },
  UnsafeCrdtUpdateError: { status: 400 },
  // LocalMisuseError subclasses (src/core/errors.ts)
  ConflictNotFoundError: { status: 404 },
  InvalidResolutionError: { status: 400 },
  InvalidRollbackError: { status: 400 },
  InvalidRequestError: { status: 400 },
  // Operational errors of the node (src/node/errors.ts)
  IngestBusyError: { status: 503, message: 'the node is busy ingesting; retry shortly', retryAfterS: 1 },
  NodeStoppedError: { status: 503, message: 'the node is stopping' },
  StorageWriteError: { status: 500, message: 'the node could not write to its store; see its log' },
  // Storage faults (src/store/errors.ts; docs/STORAGE.md "Degraded mode"): logged, answered
  // with a fixed text (no paths), the error code says which.
  StorageFullError: {
    status: 507,
    message:
      "the disk holding the node's store is full: writes are refused until space is freed (reads and pulls still work); retry later",
    retryAfterS: 30,
    log: true,
  },
  StorageDamagedError: {
    status: 503,
    message:
      'the node\'s store is damaged and refuses writes until its operator runs "gkm-sync repair" (see GET /health)',
    log: true,
  },
  StorageCorruptionError: {
    status: 500,
    message:
      "a record this request needs is damaged on the node's disk; other requests are not affected (see GET /health)",
  },
  StorageOpenError: { status: 409 },
  StoreNotOpenError: {
    status: 503,
    message: "the node's store is reopening after a write failure; retry shortly",
    retryAfterS: 1,
    log: true,
  },
  // Errors of the mesh (src/net/errors.ts), met by POST /peers
  NotAMemberError: { status: 403 },
  NetConfigError: { status: 400 },
  NetworkNotRunningError: { status: 503, message: 'the mesh is not running' },
  NetTimeoutError: { status: 504 },
}

/** Fastify's own request errors, by `code`. */
const BY_FASTIFY_CODE: Readonly<
  Record<string, { status: number; code: string; message: (limit: number) => string }>
> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'body_too_large',
    message: (limit) => `request body is larger than ${limit} bytes (http.bodyBytesMax); split the request`,
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: () => 'request body must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_request',
    message: () => 'Content-Length does not match the body that was sent',
  },
}

const INTERNAL: ErrorAnswer = {
  status: 500,
  body: { error: 'internal', message: 'the node failed to handle the request; see its log' },
  internal: true,
}

/** The answer for any error thrown while handling a request. */
export function errorAnswer(err: unknown, bodyBytesMax: number): ErrorAnswer {
  if (!(err instanceof Error)) return INTERNAL
  if (err instanceof HttpRequestError) {
    const headers = err instanceof UnauthorizedError ? { 'www-authenticate': 'Bearer' } : undefined
    return { status: err.status, body: { error: err.code, message: err.message }, headers, internal: false }
  }
  const code = (err as { code?: unknown }).code
  const known = BY_NAME[err.name]
  if (known !== undefined && typeof code === 'string') {
    return {
      status: known.status,
      body: { error: code, message: known.message ?? err.message },
      headers: known.retryAfterS === undefined ? undefined : { 'retry-after': String(known.retryAfterS) },
      internal: known.status === 500 || known.log === true,
    }
  }
  // A core error class added after this table was written: still the caller's fault.
  if ((err instanceof EventRejectedError || err instanceof LocalMisuseError) && typeof code === 'string') {
    return { status: 400, body: { error: code, message: err.message }, internal: false }
  }
  const fastify = typeof code === 'string' ? BY_FASTIFY_CODE[code] : undefined
  if (fastify !== undefined) {
    return {
      status: fastify.status,
      body: { error: fastify.code, message: fastify.message(bodyBytesMax) },
      internal: false,
    }
  }
  // Any other 4xx fastify raises (malformed request line, headers): the caller's fault.
  const statusCode = (err as { statusCode?: unknown }).statusCode
  if (
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500 &&
    typeof code === 'string' &&
    code.startsWith('FST_')
  ) {
    return { status: statusCode, body: { error: 'invalid_request', message: err.message }, internal: false }
  }
  return INTERNAL
}
