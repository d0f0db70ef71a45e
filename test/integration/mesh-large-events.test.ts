/**
 * Catch-up of a log of large events (real nodes on 127.0.0.1, mDNS off): A holds ~1,300 events
 * of ~10 KB, an empty B with a 4 MiB frame limit bootstraps to A and must end up with all of
 * them. Pull pages are bounded by bytes as well as by count (CATCH_UP_PAGE_BYTES), so no frame
 * or read buffer outgrows the reader's limit (it used to fail with `StreamBufferError: Read
 * buffer overflow` and B stayed hundreds of events behind).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { emptyMesh, waitFor } from '../helpers/mesh.ts'

const EVENTS = 1_300
const PAYLOAD_CHARS = 10_000
const MiB = 1024 * 1024

describe('catch-up of large events (real nodes, loopback)', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it(`an empty node catches up ${EVENTS} events of ~10 KB with a 4 MiB frame limit`, {
    timeout: 60_000,
  }, async () => {
    const values = { limits: { frameBytesMax: 4 * MiB } }
    const a = await mesh.create({ values })
    await a.start()
    const filler = 'x'.repeat(PAYLOAD_CHARS)
    for (let i = 0; i < EVENTS; i += 100) {
      const batch = Array.from({ length: Math.min(100, EVENTS - i) }, (_, k) => ({
        event_type: 'persona_update',
        target_id: `big-${i + k}`,
        payload: { op: 'set', fields: { n: i + k, blob: filler } },
      }))
      const r = await a.push(batch)
      assert.equal(r.accepted, batch.length)
    }
    const want = await a.status()
    assert.equal(want.events, EVENTS)
    const t0 = performance.now()
    const b = await mesh.create({ values, bootstrap: [a.addr()] })
    b.configure({ values, bootstrap: [a.addr()] })
    await b.start()
    await waitFor(
      `b holds all ${EVENTS} events`,
      async () => (await b.status()).events === EVENTS,
      30_000,
      async () => ({ b: (await b.status()).events, stats: b.node.network?.stats }),
    )
    console.log(`# b caught up ${EVENTS} events of ~10 KB in ${Math.round(performance.now() - t0)} ms`)
    assert.equal((await b.status()).state_hash, want.state_hash)
    const errors = Object.entries(b.node.network?.stats ?? {}).filter(([k]) => k.startsWith('errors.'))
    assert.deepEqual(errors, [], 'no stream errors on b')
  })
})
