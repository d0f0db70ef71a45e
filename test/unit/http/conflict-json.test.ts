import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { ConflictRecord } from '../../../src/core/records.ts'
import type { ConflictId, Digest } from '../../../src/core/types.ts'
import { conflictToJson } from '../../../src/http/json.ts'

test('a conflict in JSON: snake_case and ISO times, sides with event_id and timestamp', () => {
  const record: ConflictRecord = {
    id: 'c'.repeat(64) as ConflictId,
    type: 'vector_update',
    target: 'v1',
    cell: 'value',
    sides: [
      {
        digest: 'd'.repeat(64) as Digest,
        eventId: 'e1',
        author: 'a'.repeat(64),
        hlc: '1764123334123:2',
        value: 1,
      },
    ],
    winner: 'd'.repeat(64) as Digest,
    status: 'resolved',
    resolvedBy: 'f'.repeat(64) as Digest,
    detectedAtMs: 1764123334123,
    closedAtMs: 1764123335000,
  }
  const json = conflictToJson(record)
  assert.equal(json.conflict_id, record.id)
  assert.equal(json.resolved_by, record.resolvedBy)
  assert.equal(json.detected_at, '2025-11-26T02:15:34.123Z')
  assert.equal(json.closed_at, '2025-11-26T02:15:35.000Z')
  assert.deepEqual(json.sides, [
    { ...record.sides[0], event_id: 'e1', timestamp: '2025-11-26T02:15:34.123Z' },
  ])
  assert.equal(record.sides[0].hlc, '1764123334123:2', 'the record itself is not changed')
})
