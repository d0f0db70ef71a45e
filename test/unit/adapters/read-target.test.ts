/** The change feed's light reader agrees with the full decoder on type and target. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeSigned, readTypeAndTarget } from '../../../src/core/event-codec.ts'
import { EVENT_TYPES } from '../../../src/core/types.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

describe('readTypeAndTarget', () => {
  it('reads the same type and target as decodeSigned, for every type and multi-byte targets', () => {
    const payloads = {
      vector_update: { op: 'upsert', values: [1, 2, 3] },
      persona_update: { op: 'set', fields: { a: 1 } },
      document_update: { op: 'put', content: 'x' },
      graph_update: { op: 'add_edge', from: 'a', label: 'l', to: 'b' },
    }
    for (const type of EVENT_TYPES) {
      for (const target of [
        't',
        'ünïcödé-𝄞-目標',
        'x'.repeat(255),
        'a'.repeat(300).slice(0, 85) + '€'.repeat(56),
      ]) {
        const e = makeEvent(testSigner(3), { type, target, payload: payloads[type] })
        const full = decodeSigned(e.signed)
        assert.deepEqual(readTypeAndTarget(e.signed), { type: full.type, targetId: full.targetId })
      }
    }
  })
})
