/** A vector target's stored state leaves its values in the winning event (src/store/vector-state.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryLevel } from 'memory-level'
import { parsePayload } from '../../../src/core/payload.ts'
import { emptyTarget, type TargetState } from '../../../src/core/target-state.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'
import { LevelStore } from '../../../src/store/level-store.ts'
import { batchOf, makeEvent, stored } from '../../compliance/event-fixtures.ts'

function vectorState(target: string, digest: string, values: number[]): TargetState {
  const t = emptyTarget('vector_update', target)
  t.cells.value = {
    w: {
      d: digest as never,
      s: `0000${'a'.repeat(64)}`,
      h: '0123456789abcdef',
      v: { values, metadata: { k: 1 } },
    },
    f: [],
  }
  t.heads = [digest as never]
  t.events = 1
  t.lastHlc = '018bcfe568000000'
  return t
}

async function open(): Promise<{ db: LevelDatabase; store: LevelStore }> {
  const db = new MemoryLevel<string, string>() as LevelDatabase
  const store = new LevelStore(db)
  await store.open()
  return { db, store }
}

describe('vector state on disk', () => {
  const e = makeEvent({ n: 1, type: 'vector_update', target: 'v-1' })

  it('the state value on disk has no values; every read gives them back from the event', async () => {
    const { db, store } = await open()
    // The winning value is what the event writes (the merge makes it so).
    const written = parsePayload(e.type, e.payload)
    const v = 'writes' in written ? (written.writes[0].value as { values: number[] }).values : []
    assert.ok(v.length > 0)
    const state = vectorState('v-1', e.digest, v)
    await store.commit(batchOf({ events: [stored(e)], targets: [state] }))
    const raw = (await db.sublevel<string, string>('state', {}).values().all()).join('')
    assert.doesNotMatch(raw, /"values"/, 'no values in the stored state')
    assert.match(raw, /values_from_event/)
    assert.deepEqual(await store.getTarget('vector_update', 'v-1'), state)
    assert.deepEqual(await store.getTargets([{ type: 'vector_update', target: 'v-1' }]), [state])
    const all: TargetState[] = []
    for await (const t of store.iterateTargets()) all.push(t)
    assert.deepEqual(all, [state])
  })

  it('a state whose vector event is gone is a named corruption of that target, not a wrong answer', async () => {
    const { store } = await open()
    const other = makeEvent({ n: 2, type: 'vector_update', target: 'v-2' })
    await store.commit(batchOf({ events: [stored(e)], targets: [vectorState('v-2', other.digest, [1])] }))
    await assert.rejects(store.getTarget('vector_update', 'v-2'), {
      name: 'StorageCorruptionError',
      message: /state of vector_update "v-2": the vector's event [0-9a-f]{16}\.\.\. is not in the store/,
    })
  })
})
