/** What every route file gets: the API, the request origin, the server's limits and log. */
import type { FastifyRequest } from 'fastify'
import type { SyncApi } from '../../core/api.ts'
import type { Origin } from '../../core/types.ts'
import type { ChangeStream } from '../change-stream.ts'

/** Where the HTTP API reports what it cannot answer for (internal errors, dropped streams). */
export interface HttpLog {
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

export interface RouteContext {
  readonly api: SyncApi
  readonly log: HttpLog
  readonly bodyBytesMax: number
  /** A backup that reports its progress (HttpApiInit.backup). */
  readonly backup?: (dir: string, origin: Origin, onProgress: (progress: object) => void) => Promise<object>
  /** Open change-feed streams, ended when the server closes. */
  readonly changeStreams: Set<ChangeStream>
  /** True once close() was called: long answers (NDJSON pulls) stop early. */
  closing: boolean
}

export function originOf(req: FastifyRequest): Origin {
  return { kind: 'http', id: req.ip }
}
