/**
 * Load client for the ingest benchmark, run as its own process so the node under test has its
 * cores to itself: pushes BATCHES batches of BATCH events to URL with CONCURRENCY requests in
 * flight, and prints {events, seconds}. Mode `local` sends local writes; `signed` sends events
 * pre-signed (before timing) by another author.
 * Usage: node bench/push-client.ts URL local|signed BATCHES [BATCH] [CONCURRENCY] [OFFSET]
 */
import { Agent, request } from 'node:http'
import { eventToJson, signEvent } from '../src/core/event.ts'
import type { Digest } from '../src/core/types.ts'
import { signerFromSeed } from '../src/util/crypto.ts'
import { newEventId } from '../src/util/random.ts'
import { nextLogPosition } from '../test/helpers/log-position.ts'

const [url, mode, batchesText, batchText = '500', concText = '4', offsetText = '0'] = process.argv.slice(2)
const batches = Number(batchesText)
const batch = Number(batchText)
const offset = Number(offsetText)
const remote = signerFromSeed(new Uint8Array(32).fill(99))
let wall = Date.now() - 30_000
// A real author names its previous event on the target as parent (no spurious conflicts).
const heads = new Map<string, Digest>()
const bodies: string[] = []
for (let b = 0; b < batches; b++) {
  const events = Array.from({ length: batch }, (_, k) => {
    const i = offset + b * batch + k
    if (mode === 'local')
      return {
        event_type: 'persona_update',
        target_id: `persona-${i % 5000}`,
        payload: { op: 'set', fields: { [`f${i % 7}`]: i, note: 'bench' } },
      }
    // A fresh client is a fresh author session: new vectors, so no branch is left concurrent.
    const targetId = `vec-${offset}-${i % 5000}`
    const parent = heads.get(targetId)
    const e = signEvent(
      {
        eventId: newEventId(),
        type: 'vector_update',
        targetId,
        payload: { op: 'upsert', values: [i, 0.5, -1, 2] },
        hlc: { wallMs: wall++, counter: 0 },
        parents: parent === undefined ? [] : [parent],
        ...nextLogPosition(remote),
      },
      remote,
    )
    heads.set(targetId, e.digest)
    return eventToJson(e)
  })
  bodies.push(JSON.stringify(events))
}
let next = 0
let accepted = 0
// node:http on a keep-alive agent, one socket per request in flight: fetch (undici) costs
// ~0.9 ms of round trip per request on this machine, more than the node's whole work for a
// one-event push, so with it push1 measured the client.
const agent = new Agent({ keepAlive: true, maxSockets: Number(concText) })
const target = new URL(url)
function post(body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          text += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
const t0 = performance.now()
await Promise.all(
  Array.from({ length: Number(concText) }, async () => {
    while (next < bodies.length) {
      const res = await post(bodies[next++] as string)
      const r = JSON.parse(res.text) as { accepted: number; rejected: unknown[] }
      if (res.status !== 200 || r.rejected.length > 0)
        throw new Error(`push failed: ${res.status} ${res.text.slice(0, 300)}`)
      accepted += r.accepted
    }
  }),
)
const seconds = (performance.now() - t0) / 1000
agent.destroy()
console.log(JSON.stringify({ events: accepted, seconds }))
