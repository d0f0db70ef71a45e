/**
 * Faults the conformance suite cannot reach through the port: a batch that fails inside the
 * database, corrupt values on disk, and concurrent writers. Runs over memory-level, whose
 * handle the test keeps.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryLevel } from 'memory-level'
import { AUDIT_GENESIS_HASH, findAuditBreak } from '../../../src/store/audit-chain.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'
import * as K from '../../../src/store/keys.ts'
import { LevelStore } from '../../../src/store/level-store.ts'
import { utf8 } from '../../../src/util/bytes.ts'
import { audit, batchOf, conflict, makeEvent, stored, targetState } from '../../compliance/event-fixtures.ts'

async function openStore(): Promise<{ db: LevelDatabase; store: LevelStore }> {
  const db = new MemoryLevel<string, string>() as LevelDatabase
  const store = new LevelStore(db)
  await store.open()
  return { db, store }
}

describe('LevelStore faults', () => {
  it('a batch that fails in the database leaves seq, counters and audit head as they were', async () => {
    const { db, store } = await openStore()
    await store.commit(
      batchOf({
        events: [stored(makeEvent({ n: 1 }))],
        targets: [targetState('persona_update', 'target-1')],
        conflicts: [conflict('c'.repeat(64), 'open')],
        audit: [audit('push', 1)],
      }),
    )
    const before = await store.counts()
    const original = db.batch
    const diskFull = Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' })
    // The chained batch the store builds fails when written, as a full disk makes it.
    ;(db as { batch: unknown }).batch = () => ({
      put() {},
      del() {},
      write: async () => {
        throw diskFull
      },
      close: async () => {},
    })
    await assert.rejects(
      store.commit(
        batchOf({
          events: [stored(makeEvent({ n: 2 }))],
          targets: [targetState('persona_update', 'other')],
          conflicts: [conflict('d'.repeat(64), 'open')],
          audit: [audit('push', 2)],
        }),
      ),
      (err: Error) => err.name === 'StorageFullError' && err.cause === diskFull,
    )
    await assert.rejects(store.appendAudit([audit('pull', 3)]), { name: 'StorageFullError' })
    ;(db as { batch: unknown }).batch = original
    assert.deepEqual(await store.counts(), before)
    assert.equal(await store.lastSeq(), 1)
    // The failed write stops writes (LevelDB's log may end in a torn record) until a reopen;
    // reads go on meanwhile.
    assert.equal(store.writeFault()?.name, 'StorageFullError')
    await assert.rejects(store.appendAudit([audit('pull', 3)]), (err: Error) =>
      /writes are stopped/.test(err.message),
    )
    assert.equal((await store.readLog(0, 10)).length, 1)
    await store.reopen()
    assert.equal(store.writeFault(), undefined)
    const { seqs } = await store.commit(
      batchOf({ events: [stored(makeEvent({ n: 2 }))], audit: [audit('push', 4)] }),
    )
    assert.deepEqual(seqs, [2])
    const records = await store.readAudit(0, 10)
    assert.deepEqual(
      records.map((r) => r.seq),
      [1, 2],
    )
    assert.equal(records[1].prevHash, records[0].hash)
    await store.close()
  })

  it('concurrent commits are serialised: consecutive seqs, exact counts', async () => {
    const { store } = await openStore()
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.commit(
          batchOf({
            events: [stored(makeEvent({ n: 2 * i + 1 })), stored(makeEvent({ n: 2 * i + 2 }))],
            audit: [audit('push', i)],
          }),
        ),
      ),
    )
    assert.deepEqual(
      results.flatMap((r) => r.seqs).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
    assert.equal((await store.counts()).events, 40)
    const records = await store.readAudit(0, 100)
    for (let i = 1; i < records.length; i++) assert.equal(records[i].prevHash, records[i - 1].hash)
    await store.close()
  })

  it('a target state that is not JSON is reported as corruption with its key', async () => {
    const { db, store } = await openStore()
    const key = K.targetRecordKey(2, utf8('target-1'))
    await db
      .sublevel<Uint8Array, string>('state', { keyEncoding: 'view', valueEncoding: 'utf8' })
      .put(key, '{"type":')
    await assert.rejects(
      store.getTarget('persona_update', 'target-1'),
      (err: Error) =>
        err.name === 'StorageCorruptionError' && err.message.includes(Buffer.from(key).toString('hex')),
    )
    const iterate = async () => {
      for await (const _ of store.iterateTargets()) void _
    }
    await assert.rejects(iterate(), { name: 'StorageCorruptionError' })
    await store.close()
  })

  it('an event whose bytes no longer hash to their key is reported, not served', async () => {
    const { db, store } = await openStore()
    const e = makeEvent({ n: 1 })
    await store.commit(batchOf({ events: [stored(e)] }))
    const ev = db.sublevel<Uint8Array, Uint8Array>('ev', { keyEncoding: 'view', valueEncoding: 'view' })
    const key = K.digestKey(e.digest)!
    const value = Uint8Array.from((await ev.get(key))!)
    value[value.byteLength - 2] ^= 0x01
    await ev.put(key, value)
    await assert.rejects(
      store.getEvent(e.digest),
      (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes(e.digest),
    )
    await assert.rejects(store.readLog(0, 10), { name: 'StorageCorruptionError' })
    await assert.rejects(store.readTarget('persona_update', 'target-1', 10), {
      name: 'StorageCorruptionError',
    })
    await store.close()
  })

  it('a head record that disagrees with the log is refused at open', async () => {
    const { db, store } = await openStore()
    await store.commit(batchOf({ events: [stored(makeEvent({ n: 1 }))], meta: { hlc: '1:0' } }))
    await store.close()
    await db.open()
    // Sublevels close with their parent: take a fresh handle after every open.
    const meta = () => db.sublevel<string, string>('meta', { keyEncoding: 'utf8', valueEncoding: 'utf8' })
    const head = JSON.parse((await meta().get('head'))!)
    assert.equal(head.lastSeq, 1)
    assert.equal(head.meta.hlc, '1:0')
    await meta().put('head', JSON.stringify({ ...head, events: 7 }))
    await db.close()
    await assert.rejects(
      store.open(),
      (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes('seq 1'),
    )
    await db.open()
    await meta().put('head', JSON.stringify({ ...head, lastSeq: 'x1' }))
    await db.close()
    await assert.rejects(
      store.open(),
      (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes('meta/"head"'),
    )
    // A log entry the head does not know of (a head record lost) is refused too.
    await db.open()
    await meta().del('head')
    await db.close()
    await assert.rejects(
      store.open(),
      (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes('log ends at seq 1'),
    )
  })

  it('an audit head whose hash does not match is refused at open', async () => {
    const { db, store } = await openStore()
    await store.appendAudit([audit('start', 1), audit('push', 2)])
    const [last] = await store.readAudit(1, 1)
    await store.close()
    await db.open()
    const log = db.sublevel<Uint8Array, string>('audit', { keyEncoding: 'view', valueEncoding: 'utf8' })
    await log.put(K.seqKey(2), JSON.stringify({ ...last, op: 'edited' }))
    await db.close()
    await assert.rejects(
      store.open(),
      (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes('audit/'),
    )
  })

  it('findAuditBreak points at the first bad record', async () => {
    const { store } = await openStore()
    await store.appendAudit([audit('a', 1), audit('b', 2), audit('c', 3)])
    const records = await store.readAudit(0, 10)
    assert.equal(findAuditBreak(AUDIT_GENESIS_HASH, records), -1)
    assert.equal(findAuditBreak(AUDIT_GENESIS_HASH, [records[0], records[2]]), 1)
    assert.equal(
      findAuditBreak(AUDIT_GENESIS_HASH, [records[0], { ...records[1], detail: { n: 9 } }, records[2]]),
      1,
    )
    await store.close()
  })
})
