/**
 * POST /admin/backup: a consistent copy of the store into a directory on the node's machine
 * (docs/API.md); with `Accept: application/x-ndjson`, progress lines first
 * (src/http/progress-stream.ts), which `gkm-sync backup` draws.
 */
import type { FastifyInstance } from 'fastify'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { sendWithProgress, wantsNdjson } from '../progress-stream.ts'
import { originOf, type RouteContext } from './context.ts'

/** Longest `dir` accepted: a path, not a payload. */
const DIR_CHARS_MAX = 4096

export function registerBackupRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/admin/backup', async (req, reply) => {
    const body = req.body as { dir?: unknown } | undefined
    if (ctx.api.backup === undefined) throw new NotFoundError('this node cannot make backups')
    if (typeof body?.dir !== 'string' || body.dir.length === 0 || body.dir.length > DIR_CHARS_MAX)
      throw new BadRequestError(
        `dir: an absolute directory path (at most ${DIR_CHARS_MAX} characters) is required`,
      )
    const dir = body.dir
    const backup = ctx.backup
    if (backup === undefined || !wantsNdjson(req)) return ctx.api.backup(dir, originOf(req))
    return sendWithProgress(
      reply,
      ctx.bodyBytesMax,
      (report) => backup(dir, originOf(req), report),
      (err) => ctx.log.error('backup stream failed', { err }),
    )
  })
}
