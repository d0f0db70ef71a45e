/**
 * GET /changes: the change feed as server-sent events. Starts after `?after=<seq>` (default 0:
 * the whole log first) or, when a client reconnects, after its `Last-Event-ID` (which wins: it
 * is the newer of the two).
 */
import type { FastifyInstance } from 'fastify'
import { ChangeStream, type ChangeStreamLimits } from '../change-stream.ts'
import { errorAnswer } from '../errors.ts'
import { intText } from '../validate.ts'
import type { RouteContext } from './context.ts'

export function registerChangesRoute(
  app: FastifyInstance,
  ctx: RouteContext,
  limits: ChangeStreamLimits,
): void {
  // No automatic HEAD route: it would open a subscription for an answer without a body.
  app.get('/changes', { exposeHeadRoute: false }, async (req, reply) => {
    const lastEventId = req.headers['last-event-id']
    const after =
      typeof lastEventId === 'string' && lastEventId !== ''
        ? intText(lastEventId, 'Last-Event-ID', 0, Number.MAX_SAFE_INTEGER, 0)
        : intText((req.query as Record<string, unknown>).after, 'after', 0, Number.MAX_SAFE_INTEGER, 0)

    reply.hijack()
    let unsubscribe: (() => void) | undefined
    let ended = false
    const stream = new ChangeStream(reply.raw, limits, () => {
      ended = true
      ctx.changeStreams.delete(stream)
      unsubscribe?.()
    })
    ctx.changeStreams.add(stream)
    stream.start()
    try {
      const off = ctx.api.subscribe(
        after,
        (change) => stream.push(change),
        (err) => {
          ctx.log.error('change feed replay failed', { err })
          stream.end('error', { error: 'internal', message: 'the change feed could not be read; reconnect' })
        },
      )
      // The subscription may have overflowed the stream while replaying synchronously.
      if (ended) off()
      else unsubscribe = off
    } catch (err) {
      const answer = errorAnswer(err, ctx.bodyBytesMax)
      if (answer.internal) ctx.log.error('change feed subscription failed', { err })
      stream.end('error', answer.body)
    }
  })
}
