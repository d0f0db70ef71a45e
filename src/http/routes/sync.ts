/** POST /sync/push, /sync/resolve-conflict, /sync/rollback: the writing routes. */
import type { FastifyInstance } from 'fastify'
import { PUSH_EVENTS_MAX } from '../../core/constants.ts'
import { BadRequestError, TooManyEventsError } from '../errors.ts'
import { resolveBody, rollbackBody } from '../validate.ts'
import { originOf, type RouteContext } from './context.ts'

export function registerSyncRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/sync/push', async (req) => {
    const events = pushEvents(req.body)
    return ctx.api.push(events, originOf(req))
  })

  app.post('/sync/resolve-conflict', async (req) =>
    ctx.api.resolveConflict(resolveBody(req.body), originOf(req)),
  )

  app.post('/sync/rollback', async (req) => ctx.api.rollback(rollbackBody(req.body), originOf(req)))
}

/** The spec's body is an array of events; `{ "events": [...] }` is accepted too. */
function pushEvents(body: unknown): unknown[] {
  let events = body
  if (events !== null && typeof events === 'object' && !Array.isArray(events)) {
    const keys = Object.keys(events)
    if (keys.length !== 1 || keys[0] !== 'events') {
      throw new BadRequestError('push body must be a JSON array of events, or { "events": [...] }')
    }
    events = (events as { events: unknown }).events
  }
  if (!Array.isArray(events))
    throw new BadRequestError('push body must be a JSON array of events, or { "events": [...] }')
  if (events.length > PUSH_EVENTS_MAX) {
    throw new TooManyEventsError(
      `at most ${PUSH_EVENTS_MAX} events per push, got ${events.length}; split the push`,
    )
  }
  return events
}
