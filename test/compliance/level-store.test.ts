/**
 * The conformance suite over LevelDB in temp directories, plus what only a disk store has:
 * a second instance over the same directory, format versions, directory creation.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Level } from 'level'
import { createLevelStore } from '../../src/store/index.ts'
import { audit, batchOf, conflict, makeEvent, stored, targetState } from './event-fixtures.ts'
import { runStoreConformance } from './store-suite.ts'

const root = await mkdtemp(join(tmpdir(), 'gkm-store-'))
let dirs = 0
const freshDir = () => join(root, `db-${++dirs}`)
after(() => rm(root, { recursive: true, force: true }))

runStoreConformance('LevelDB', async () => {
  const dir = freshDir()
  const store = createLevelStore(dir)
  return {
    store,
    cleanup: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

describe('LevelStore on disk', () => {
  it('a new instance over the same directory sees every synced commit and continues seq and audit', async () => {
    const dir = freshDir()
    const first = createLevelStore(dir)
    await first.open()
    const events = [1, 2, 3].map((n) => makeEvent({ n }))
    await first.commit(
      batchOf({
        events: events.map(stored),
        targets: [targetState('persona_update', 'target-1', events[0])],
        conflicts: [conflict('c'.repeat(64), 'open')],
        audit: [audit('push', 1)],
        meta: { hlc: '1700000000003:0' },
      }),
    )
    await first.close()

    const second = createLevelStore(dir)
    await second.open()
    try {
      assert.equal(await second.lastSeq(), 3)
      assert.deepEqual(await second.counts(), {
        events: 3,
        byType: { vector_update: 0, persona_update: 3, document_update: 0, graph_update: 0 },
        targets: 1,
        conflictsOpen: 1,
      })
      assert.equal(await second.getMeta('hlc'), '1700000000003:0')
      assert.ok(await second.getEvent(events[2].digest))
      const { seqs } = await second.commit(
        batchOf({ events: [stored(makeEvent({ n: 4 }))], audit: [audit('push', 2)] }),
      )
      assert.deepEqual(seqs, [4])
      const records = await second.readAudit(0, 10)
      assert.deepEqual(
        records.map((r) => r.seq),
        [1, 2],
      )
      assert.equal(records[1].prevHash, records[0].hash)
    } finally {
      await second.close()
    }
  })

  it('creates a missing data directory, parents included', async () => {
    const dir = join(freshDir(), 'nested', 'deeper')
    const store = createLevelStore(dir)
    await store.open()
    await store.close()
    assert.ok((await readdir(dir)).includes('CURRENT'))
  })

  it('refuses a directory with an unknown format version', async () => {
    const dir = freshDir()
    const store = createLevelStore(dir)
    await store.open()
    await store.close()
    const raw = new Level<string, string>(dir)
    await raw.sublevel('meta').put('formatVersion', '99')
    await raw.close()
    await assert.rejects(
      createLevelStore(dir).open(),
      (err: Error) => err.name === 'StorageFormatError' && err.message.includes('"99"'),
    )
  })

  for (const old of ['1', '2']) {
    it(`refuses a store of format ${old} with a message naming the version and what to do`, async () => {
      const dir = freshDir()
      const store = createLevelStore(dir)
      await store.open()
      await store.close()
      const raw = new Level<string, string>(dir)
      await raw.sublevel('meta').put('formatVersion', old)
      await raw.close()
      await assert.rejects(
        createLevelStore(dir).open(),
        (err: Error) =>
          err.name === 'StorageFormatError' &&
          err.message.includes(`format version "${old}"`) &&
          err.message.includes('version 3') &&
          err.message.includes('empty data directory'),
      )
    })
  }

  it('refuses a LevelDB directory that is not a gkm-sync store', async () => {
    const dir = freshDir()
    const raw = new Level<string, string>(dir)
    await raw.put('someone-else', 'data')
    await raw.close()
    await assert.rejects(createLevelStore(dir).open(), { name: 'StorageFormatError' })
  })
})
