/** The reading routes: conflicts, equivocations, state, status, audit, health. */
import type { FastifyInstance } from 'fastify'
import { HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX } from '../../core/constants.ts'
import { LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX } from '../constants.ts'
import { BadRequestError, NotFoundError } from '../errors.ts'
import { conflictToJson, equivocationToJson, vectorStateOut } from '../json.ts'
import { conflictsQuery, eventType, intText, targetId } from '../validate.ts'
import type { RouteContext } from './context.ts'

type Query = Record<string, unknown>

export function registerReadRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/sync/conflicts', async (req) => {
    const { status, limit } = conflictsQuery(req.query as Query)
    return { conflicts: (await ctx.api.conflicts(status, limit)).map(conflictToJson) }
  })

  app.get('/sync/equivocations', async (req) => {
    const limit = intText((req.query as Query).limit, 'limit', 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)
    const records = await ctx.api.equivocations(limit)
    return { equivocations: records.map(equivocationToJson) }
  })

  app.get('/state/:event_type/:target_id', async (req) => {
    const params = req.params as { event_type: string; target_id: string }
    const type = eventType(params.event_type, 'event_type')
    const target = targetId(params.target_id, 'target_id')
    const vectors = (req.query as Query).vectors
    if (vectors !== undefined && vectors !== 'numbers' && vectors !== 'base64')
      throw new BadRequestError(
        'vectors must be numbers (the default) or base64 (packed little-endian float32)',
      )
    const state = await ctx.api.state(type, target)
    if (state === undefined)
      throw new NotFoundError(`no state for ${type} ${JSON.stringify(target)}: no event names this target`)
    return vectorStateOut(state, vectors ?? 'numbers')
  })

  app.get('/state/:event_type/:target_id/history', async (req) => {
    const params = req.params as { event_type: string; target_id: string }
    const q = req.query as Query
    const type = eventType(params.event_type, 'event_type')
    const target = targetId(params.target_id, 'target_id')
    const limit = intText(q.limit, 'limit', 1, HISTORY_LIMIT_MAX, HISTORY_LIMIT_DEFAULT)
    const cursor = q.cursor
    if (cursor !== undefined && typeof cursor !== 'string')
      throw new BadRequestError('cursor must be given once, as the next_cursor of the previous page')
    return ctx.api.history(type, target, { limit, ...(cursor === undefined ? {} : { cursor }) })
  })

  app.get('/status', async () => ctx.api.status())

  app.get('/audit', async (req) => {
    const q = req.query as Query
    const limit = intText(q.limit, 'limit', 1, LIST_LIMIT_MAX, LIST_LIMIT_DEFAULT)
    if (q.order !== undefined && q.order !== 'oldest' && q.order !== 'newest')
      throw new BadRequestError(
        'order must be oldest (records after `after`) or newest (latest first, before `before`)',
      )
    if (q.order === 'newest') {
      if (q.after !== undefined) throw new BadRequestError('order=newest pages with before, not after')
      const before = intText(q.before, 'before', 1, Number.MAX_SAFE_INTEGER, 0)
      return { records: await ctx.api.audit(before, limit, true) }
    }
    if (q.before !== undefined) throw new BadRequestError('before goes with order=newest')
    const after = intText(q.after, 'after', 0, Number.MAX_SAFE_INTEGER, 0)
    return { records: await ctx.api.audit(after, limit) }
  })

  // 503 while degraded (a full disk, a damaged store), so that a monitor reading only the
  // status code notices; reads and pulls still work then.
  app.get('/health', async (_req, reply) => {
    const h = (await ctx.api.health?.()) ?? { ok: true }
    if (!h.ok) void reply.code(503)
    return h.ok ? { ok: true } : { ok: false, status: `degraded: ${h.degraded}` }
  })
}
