/**
 * StorageHealth: a write fault refuses writes with its own named error, the probe waits for
 * free space before it reopens, backs off while it cannot, and clears the fault once the reopen
 * succeeded; read corruption is named and reported as degraded.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryLevel } from 'memory-level'
import { StorageHealth, watchedStore } from '../../../src/node/storage-health.ts'
import { StorageCorruptionError, StorageFullError } from '../../../src/store/errors.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'
import { LevelStore } from '../../../src/store/level-store.ts'
import { audit, batchOf, makeEvent, stored } from '../../compliance/event-fixtures.ts'

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A memory store whose next batch write fails as a full disk makes it. */
async function storeWithFullDisk() {
  const db = new MemoryLevel<string, string>() as LevelDatabase
  const store = new LevelStore(db)
  await store.open()
  const original = db.batch.bind(db)
  let full = true
  ;(db as { batch: unknown }).batch = () => {
    if (!full) return original()
    return {
      put() {},
      del() {},
      write: async () => {
        throw Object.assign(new Error('IO error: 000005.ldb: No space left on device'), {
          code: 'LEVEL_IO_ERROR',
        })
      },
      close: async () => {},
    }
  }
  return { store, free: () => (full = false) }
}

describe('StorageHealth', () => {
  it('refuses writes while full, reopens only once space is back, then writes resume', async () => {
    const { store, free } = await storeWithFullDisk()
    let freeBytes = 0
    let reopened = 0
    let resets = 0
    const health = new StorageHealth(
      {
        store: {
          ...store,
          writeFault: () => store.writeFault(),
          reopen: async () => {
            reopened++
            await store.reopen()
          },
        } as never,
        freeBytes: async () => freeBytes,
        quiesce: (fn) => fn(),
        afterReopen: async () => {
          resets++
        },
      },
      { probeMsMin: 1, probeMsMax: 8, resumeFreeBytesMin: 100 },
    )
    const watched = watchedStore(store, health)
    assert.equal(health.degraded(), undefined)
    await assert.rejects(watched.commit(batchOf({ events: [stored(makeEvent({ n: 1 }))] })), {
      name: 'StorageFullError',
    })
    assert.match(health.degraded() ?? '', /^disk full/)
    assert.throws(
      () => health.checkWritable(),
      (err: Error) => err instanceof StorageFullError,
    )
    assert.ok(health.writesStopped())
    // Probes go on while the disk shows no space, without reopening (reads keep their store).
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(reopened, 0)
    assert.equal((await watched.readLog(0, 10)).length, 0)
    free()
    freeBytes = 1000
    await waitFor('the probe to reopen', () => health.degraded() === undefined)
    assert.equal(reopened, 1)
    assert.equal(resets, 1)
    assert.equal(health.recoveries, 1)
    health.checkWritable()
    const { seqs } = await watched.commit(
      batchOf({ events: [stored(makeEvent({ n: 1 }))], audit: [audit('push', 1)] }),
    )
    assert.deepEqual(seqs, [1])
    health.stop()
    await store.close()
  })

  it('names LevelDB corruption met by a read and reports degraded; writes are not stopped', async () => {
    const db = new MemoryLevel<string, string>() as LevelDatabase
    const store = new LevelStore(db)
    await store.open()
    const health = new StorageHealth({
      store,
      freeBytes: async () => 0,
      quiesce: (fn) => fn(),
      afterReopen: async () => {},
    })
    const raw = Object.assign(new Error('Corruption: bad block type'), { code: 'LEVEL_CORRUPTION' })
    const named = health.note(raw)
    assert.ok(named instanceof StorageCorruptionError)
    assert.equal((named as Error).cause, raw)
    assert.match(health.degraded() ?? '', /^a read met damaged data/)
    assert.equal(health.writesStopped(), false)
    health.checkWritable()
    health.stop()
    await store.close()
  })
})
