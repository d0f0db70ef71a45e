/**
 * A long request answered as NDJSON when the client asks for it (`Accept:
 * application/x-ndjson`): a line `{"progress": {...}}` each time the work reports how far it is
 * (at most one per PROGRESS_LINE_MS; the latest report is never dropped for good), then a last
 * line `{...result, "done": true}`, or `{"error", "message", "done": false}` when the work
 * failed after the first line went out. A failure before the work reported anything is thrown
 * as usual, so it keeps its status code (a bad directory, a banned peer). Used by `POST
 * /sync/reconcile` and `POST /admin/backup`, so that `gkm-sync sync` and `gkm-sync backup` can
 * show progress.
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { errorAnswer } from './errors.ts'

/** Progress lines are sent at most this often: a terminal redraws ten times a second. */
const PROGRESS_LINE_MS = 100

/** Whether the client asked for NDJSON. */
export function wantsNdjson(req: FastifyRequest): boolean {
  return /\bapplication\/x-ndjson\b/i.test(req.headers.accept ?? '')
}

type Outcome = { ok: true; result: object } | { ok: false; err: unknown }

/**
 * Runs `work`, streaming its progress and result as NDJSON lines on `reply`. `work` calls
 * `report` with a JSON-able object as often as it likes.
 */
export async function sendWithProgress(
  reply: FastifyReply,
  bodyBytesMax: number,
  work: (report: (progress: object) => void) => Promise<object>,
  onInternalError: (err: unknown) => void,
): Promise<FastifyReply | object> {
  let latest: object | undefined
  let outcome: Outcome | undefined
  let wake: (() => void) | undefined
  const report = (progress: object) => {
    latest = progress
    wake?.()
  }
  const running = work(report).then(
    (result) => {
      outcome = { ok: true, result }
    },
    (err: unknown) => {
      outcome = { ok: false, err }
    },
  )
  void running.finally(() => wake?.())
  // Until the first report, nothing is sent: a quick answer or an early failure is plain JSON.
  while (latest === undefined && outcome === undefined) {
    const { promise, resolve } = Promise.withResolvers<void>()
    wake = resolve
    await promise
    wake = undefined
  }
  if (latest === undefined && outcome !== undefined) {
    if (!outcome.ok) throw outcome.err
    return outcome.result
  }
  async function* lines(): AsyncGenerator<string> {
    let sentAt = Number.NEGATIVE_INFINITY
    while (outcome === undefined) {
      if (latest !== undefined && performance.now() - sentAt >= PROGRESS_LINE_MS) {
        const line = `${JSON.stringify({ progress: latest })}\n`
        latest = undefined
        sentAt = performance.now()
        yield line
        continue
      }
      // Wait for news: a report, the end of the work, or the end of the rate limit.
      const { promise, resolve } = Promise.withResolvers<void>()
      wake = resolve
      const timer =
        latest === undefined
          ? undefined
          : setTimeout(resolve, PROGRESS_LINE_MS - (performance.now() - sentAt))
      await promise
      wake = undefined
      if (timer !== undefined) clearTimeout(timer)
    }
    // The last count before the end, even inside the rate limit: a bar ends where the work did.
    if (latest !== undefined) yield `${JSON.stringify({ progress: latest })}\n`
    const end = outcome as Outcome
    if (end.ok) {
      yield `${JSON.stringify({ ...end.result, done: true })}\n`
      return
    }
    const answer = errorAnswer(end.err, bodyBytesMax)
    if (answer.internal) onInternalError(end.err)
    yield `${JSON.stringify({ ...answer.body, done: false })}\n`
  }
  reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store')
  return reply.send(Readable.from(lines(), { objectMode: false }))
}
