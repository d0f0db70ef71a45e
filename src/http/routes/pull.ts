/**
 * POST /sync/pull: a page of events (batch mode), or every page as NDJSON (streaming mode,
 * `Accept: application/x-ndjson` or `"stream": true`).
 *
 * Streaming writes one event per line and a last line `{"next_cursor": "...", "done": true}`.
 * The lines come from an async generator read by a Readable, so a page is fetched only when the
 * client has taken the previous one (back-pressure), and fastify destroys the Readable when the
 * client goes away, which stops the paging. An error after the first line cannot change the
 * status any more: it is sent as a last line `{"error", "message", "next_cursor", "done": false}`
 * so the client can resume from `next_cursor`.
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { PullPage, PullRequest } from '../../core/api.ts'
import type { Origin } from '../../core/types.ts'
import { errorAnswer } from '../errors.ts'
import { storedToJson } from '../json.ts'
import { pullBody } from '../validate.ts'
import { originOf, type RouteContext } from './context.ts'

/** Lines are written in chunks of about this size: fewer, larger writes than one per event. */
const NDJSON_CHUNK_CHARS = 64 * 1024

export function registerPullRoute(app: FastifyInstance, ctx: RouteContext): void {
  app.post('/sync/pull', async (req, reply) => {
    const { req: pull, stream } = pullBody(req.body)
    const origin = originOf(req)
    const accept = req.headers.accept ?? ''
    const first = await ctx.api.pull(pull, origin)
    if (stream || /\bapplication\/x-ndjson\b/i.test(accept)) {
      reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store')
      return reply.send(Readable.from(ndjsonLines(ctx, pull, origin, first), { objectMode: false }))
    }
    return {
      events: first.events.map(storedToJson),
      next_cursor: first.next_cursor,
      has_more: first.has_more,
    }
  })
}

async function* ndjsonLines(
  ctx: RouteContext,
  pull: PullRequest,
  origin: Origin,
  first: PullPage,
): AsyncGenerator<string> {
  let page = first
  let resumeFrom = pull.cursor ?? ''
  for (;;) {
    let chunk = ''
    try {
      for (const e of page.events) {
        chunk += `${JSON.stringify(storedToJson(e))}\n`
        if (chunk.length >= NDJSON_CHUNK_CHARS) {
          yield chunk
          chunk = ''
        }
      }
      if (chunk !== '') yield chunk
      resumeFrom = page.next_cursor
      if (!page.has_more) break
      if (ctx.closing) {
        yield lastLine(
          { error: 'stopped', message: 'the node is stopping; pull again from next_cursor' },
          resumeFrom,
        )
        return
      }
      page = await ctx.api.pull({ ...pull, cursor: page.next_cursor }, origin)
    } catch (err) {
      // Lines of the failed page may have gone out already; resuming from the page's start
      // repeats them, which a client handles like any duplicate.
      const answer = errorAnswer(err, ctx.bodyBytesMax)
      if (answer.internal) ctx.log.error('pull stream failed', { err })
      yield lastLine(answer.body, resumeFrom)
      return
    }
  }
  yield `${JSON.stringify({ next_cursor: page.next_cursor, done: true })}\n`
}

function lastLine(body: { error: string; message: string }, nextCursor: string): string {
  return `${JSON.stringify({ ...body, next_cursor: nextCursor, done: false })}\n`
}
