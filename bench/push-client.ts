/**
 * Load client for the ingest benchmark, run as its own process so the node under test has its
 * cores to itself: pushes BATCHES batches of BATCH events to URL with CONCURRENCY requests in
 * flight, and prints {events, seconds}. Mode `local` sends local writes; `signed` sends events
 * pre-signed (before timing) by another author.
 * Usage: node bench/push-client.ts URL local|signed BATCHES [BATCH] [CONCURRENCY] [OFFSET]
 */
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
const t0 = performance.now()
await Promise.all(
  Array.from({ length: Number(concText) }, async () => {
    while (next < bodies.length) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[next++],
      })
      const r = (await res.json()) as { accepted: number; rejected: unknown[] }
      if (res.status !== 200 || r.rejected.length > 0)
        throw new Error(`push failed: ${res.status} ${JSON.stringify(r).slice(0, 300)}`)
      accepted += r.accepted
    }
  }),
)
console.log(JSON.stringify({ events: accepted, seconds: (performance.now() - t0) / 1000 }))
