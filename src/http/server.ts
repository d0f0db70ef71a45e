/** The HTTP API server: fastify, one error table, bearer auth, the routes of ./routes. */
import type { AddressInfo } from 'node:net'
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify'
import type { SyncApi } from '../core/api.ts'
import type { Origin } from '../core/types.ts'
import { bearerCheck } from './auth.ts'
import {
  CLOSE_GRACE_MS,
  CONNECTIONS_MAX,
  HEADERS_TIMEOUT_MS,
  PARAM_CHARS_MAX,
  REQUEST_TIMEOUT_MS,
  SSE_HEARTBEAT_MS,
  SSE_QUEUE_BYTES_MAX,
  SSE_QUEUE_EVENTS_MAX,
  SSE_RETRY_MS,
  TIMEOUT_CHECK_INTERVAL_MS,
} from './constants.ts'
import { errorAnswer, UnsupportedMediaTypeError } from './errors.ts'
import { parseJsonBody } from './json-body.ts'
import { registerBackupRoute } from './routes/backup.ts'
import { registerChangesRoute } from './routes/changes.ts'
import { CONSOLE_PATHS, registerConsoleRoutes } from './routes/console.ts'
import type { HttpLog, RouteContext } from './routes/context.ts'
import { type MeshPeers, registerPeersRoutes } from './routes/peers.ts'
import { registerPullRoute } from './routes/pull.ts'
import { registerReadRoutes } from './routes/read.ts'
import { registerSyncRoutes } from './routes/sync.ts'

export interface HttpApiInit {
  host: string
  /** 0 lets the OS pick a port; `listen()` returns the one it picked. */
  port: number
  /** When set, every route requires `Authorization: Bearer <token>`. */
  token?: string
  /** Largest request body, enforced before parsing (413). */
  bodyBytesMax: number
  /** Internal errors go here; defaults to stderr. */
  log?: HttpLog
  /** The mesh, for GET/POST /peers; absent when the node runs without it (`--no-mesh`). */
  peers?: MeshPeers
  /** Connection limits (tests shrink them); defaults in ./constants.ts. */
  connections?: Partial<{
    connectionsMax: number
    headersTimeoutMs: number
    requestTimeoutMs: number
    timeoutCheckIntervalMs: number
  }>
  /** Change-feed tunables (tests shrink them). */
  changes?: Partial<{ queueEventsMax: number; queueBytesMax: number; heartbeatMs: number; retryMs: number }>
  /** The node's structured logger (pino), given to fastify; internal errors are logged there
   *  when `log` is not set. Request lines are not logged (they would drown the meaningful ones). */
  logger?: FastifyBaseLogger
  /** `GET /metrics` (Prometheus text format), behind the same token as the API. */
  metrics?: { readonly contentType: string; render(): Promise<string> }
  /** While the node starts (rebuilding its state), the progress text (`starting: rebuild n of
   *  m`); undefined once ready. While it returns text, /health answers 503, /status 200 with the
   *  progress, /metrics as usual, and every other route 503 with `error: "starting"`. */
  starting?: () => { message: string; done: number; total: number } | undefined
  /** `POST /admin/backup` with progress (as NDJSON when asked; src/http/progress-stream.ts);
   *  without it the route answers with `api.backup`, in one piece. */
  backup?: (dir: string, origin: Origin, onProgress: (progress: object) => void) => Promise<object>
}

export interface HttpApi {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<{ host: string; port: number }>
  /** Gives the API to a server created without one (listening during start-up). */
  ready(api: SyncApi): void
  /** Ends change-feed streams, stops long answers, and closes the server. */
  close(): Promise<void>
}

const STDERR_LOG: HttpLog = {
  warn: (message, fields) => process.stderr.write(`gkm-sync http: ${message}${describe(fields)}\n`),
  error: (message, fields) => process.stderr.write(`gkm-sync http: ${message}${describe(fields)}\n`),
}

function describe(fields: Record<string, unknown> | undefined): string {
  const err = fields?.err
  return err instanceof Error ? `: ${err.stack ?? err.message}` : ''
}

/** Routes served while the node is starting (see HttpApiInit.starting). */
const STARTING_ROUTES = new Set(['/health', '/status', '/metrics'])

/**
 * The server. `api` may be undefined when the server listens before the node is ready (during
 * a start-up rebuild): `init.starting` must then answer until `ready(api)` is called, and no
 * route but /health, /status and /metrics is reached before that.
 */
export function createHttpApi(api: SyncApi | undefined, init: HttpApiInit): HttpApi {
  const logger = init.logger
  const ctx: RouteContext = {
    api: api as SyncApi,
    log:
      init.log ??
      (logger === undefined
        ? STDERR_LOG
        : {
            warn: (message, fields) => logger.warn(fields ?? {}, message),
            error: (message, fields) => logger.error(fields ?? {}, message),
          }),
    bodyBytesMax: init.bodyBytesMax,
    ...(init.backup === undefined ? {} : { backup: init.backup }),
    changeStreams: new Set(),
    closing: false,
  }
  const requestTimeoutMs = init.connections?.requestTimeoutMs ?? REQUEST_TIMEOUT_MS
  const app = Fastify({
    ...(logger === undefined
      ? { logger: false }
      : { loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }) }),
    bodyLimit: init.bodyBytesMax,
    // Slow clients: docs/LIMITS.md (HTTP API). Fastify sets the server's requestTimeout itself.
    requestTimeout: requestTimeoutMs,
    http: {
      headersTimeout: init.connections?.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: init.connections?.timeoutCheckIntervalMs ?? TIMEOUT_CHECK_INTERVAL_MS,
    },
    routerOptions: { maxParamLength: PARAM_CHARS_MAX },
    // Bad URLs and over-long parameters are answered before routing, in our error format.
    frameworkErrors: (err, _req, reply) => {
      void (reply as FastifyReply).code(400).send({ error: 'invalid_request', message: err.message })
    },
  })

  const checkToken = init.token === undefined ? undefined : bearerCheck(init.token)
  app.addHook('onRequest', async (req, reply) => {
    // the console's static files hold no data (routes/console.ts)
    if ((req.method === 'GET' || req.method === 'HEAD') && CONSOLE_PATHS.has(req.url.split('?')[0])) return
    checkToken?.(req.headers.authorization)
    const starting = init.starting?.()
    if (starting !== undefined) {
      const path = req.url.split('?')[0]
      if (path === '/status' && req.method === 'GET') {
        return reply.code(200).send({ starting: true, message: starting.message, rebuild: starting })
      }
      if (!STARTING_ROUTES.has(path) || path === '/health') {
        return reply
          .code(503)
          .header('retry-after', '1')
          .send({ error: 'starting', message: starting.message, rebuild: starting })
      }
    }
    if (req.method === 'POST' && hasBody(req) && !isJson(req.headers['content-type'])) {
      throw new UnsupportedMediaTypeError(
        `request body must be application/json (got ${JSON.stringify(req.headers['content-type'] ?? 'no Content-Type')})`,
      )
    }
  })

  app.server.maxConnections = init.connections?.connectionsMax ?? CONNECTIONS_MAX

  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer))
    } catch (err) {
      done(err as Error, undefined)
    }
  })

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const answer = errorAnswer(err, init.bodyBytesMax)
    if (answer.internal) ctx.log.error(`${req.method} ${req.url} failed`, { err })
    if (answer.headers !== undefined) void reply.headers(answer.headers)
    void reply.code(answer.status).send(answer.body)
  })
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` })
  })

  if (init.metrics !== undefined) {
    const metrics = init.metrics
    app.get('/metrics', async (_req, reply) => {
      const text = await metrics.render()
      return reply.header('content-type', metrics.contentType).send(text)
    })
  }
  registerSyncRoutes(app, ctx)
  registerConsoleRoutes(app, ctx.log)
  registerPullRoute(app, ctx)
  registerReadRoutes(app, ctx)
  registerBackupRoute(app, ctx)
  registerPeersRoutes(app, ctx, init.peers)
  registerChangesRoute(app, ctx, {
    queueEventsMax: init.changes?.queueEventsMax ?? SSE_QUEUE_EVENTS_MAX,
    queueBytesMax: init.changes?.queueBytesMax ?? SSE_QUEUE_BYTES_MAX,
    heartbeatMs: init.changes?.heartbeatMs ?? SSE_HEARTBEAT_MS,
    retryMs: init.changes?.retryMs ?? SSE_RETRY_MS,
  })

  return {
    async listen() {
      await app.listen({ host: init.host, port: init.port })
      const address = app.server.address() as AddressInfo
      return { host: address.address, port: address.port }
    },
    ready(ready: SyncApi) {
      ;(ctx as { api: SyncApi }).api = ready
    },
    async close() {
      await closeServer(app, ctx)
    },
  }
}

async function closeServer(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  ctx.closing = true
  for (const stream of [...ctx.changeStreams]) {
    stream.end('close', {
      error: 'stopped',
      message: 'the node is stopping; reconnect with Last-Event-ID later',
    })
  }
  const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS)
  try {
    await app.close()
  } finally {
    clearTimeout(cut)
  }
}

/** A request carries a body when it says so (Content-Length > 0 or chunked). */
function hasBody(req: FastifyRequest): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(;|$)/i.test(contentType.trim())
}
