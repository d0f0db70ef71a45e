/** Runs the example of src/store/index.ts, so the module doc cannot rot. */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { createLevelStore } from '../../../src/store/index.ts'
import { makeEvent } from '../../compliance/event-fixtures.ts'

it('the store module example runs as written', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'gkm-example-'))
  const event = makeEvent({ n: 1 })
  try {
    const store = createLevelStore(join(dataDir, 'db')) // created if missing
    await store.open()
    const { seqs } = await store.commit({
      events: [{ signed: event.signed, signature: event.signature }],
      targets: [],
      conflicts: [],
      equivocations: [],
      audit: [],
      meta: {},
    })
    const page = await store.readLog(0, 500)
    await store.close()
    assert.deepEqual(seqs, [1])
    assert.deepEqual(
      page.map((r) => r.seq),
      [1],
    )
    assert.deepEqual(page[0].event.signed, event.signed)
  } finally {
    await rm(dataDir, { recursive: true, force: true })
  }
})
