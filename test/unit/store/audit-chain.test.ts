import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import canonicalize from 'canonicalize'
import type { AuditRecord } from '../../../src/core/records.ts'
import { AUDIT_GENESIS_HASH, auditHash, chainAudit, findAuditBreak } from '../../../src/store/audit-chain.ts'

/** The chain's definition, written out independently: sha256(bytes(prevHash) ‖ RFC 8785 JSON of
 *  {seq, atMs, op, origin, detail}), hex. */
type Body = Omit<AuditRecord, 'prevHash' | 'hash'>

function reference(prevHash: string, b: Body) {
  const text = (canonicalize as unknown as (v: unknown) => string)({
    seq: b.seq,
    atMs: b.atMs,
    op: b.op,
    origin: b.origin,
    detail: b.detail,
  })
  return createHash('sha256')
    .update(Buffer.from(prevHash, 'hex'))
    .update(Buffer.from(text, 'utf8'))
    .digest('hex')
}

test('auditHash is sha256 of the previous hash bytes and the canonical JSON of the body', () => {
  const prev = 'ab'.repeat(32)
  const bodies: Body[] = [
    // Detail keys in order (the commit's own push record) and out of order, nested, non-ASCII.
    {
      seq: 7,
      atMs: 1_700_000_000_123,
      op: 'push',
      origin: 'peer:x',
      detail: { accepted: 1, duplicates: 0, rejected: [], seq_first: 3, seq_last: 3 },
    },
    {
      seq: 8,
      atMs: 1.5,
      op: 'équivocation',
      origin: 'author:ff',
      detail: { z: { b: 2, a: [1, { d: 1, c: 'é' }] }, a: null },
    },
    { seq: 9, atMs: 0, op: '', origin: '', detail: {} },
  ]
  for (const b of bodies) {
    assert.equal(auditHash(prev, b), reference(prev, b))
    assert.equal(auditHash(AUDIT_GENESIS_HASH, b), reference(AUDIT_GENESIS_HASH, b))
  }
  // A malformed previous hash (a damaged record) hashes as before: the bytes Buffer decodes.
  for (const bad of ['abc', 'zz'.repeat(32), 'ab'.repeat(31)])
    assert.equal(auditHash(bad, bodies[0]), reference(bad, bodies[0]))
})

test('a chain built by chainAudit verifies, and an edited record breaks it', () => {
  const records = chainAudit({ seq: 0, hash: AUDIT_GENESIS_HASH }, [
    { atMs: 1, op: 'push', origin: 'http', detail: { accepted: 2 } },
    { atMs: 2, op: 'push', origin: 'peer:a', detail: { b: 1, a: 2 } },
  ])
  assert.equal(findAuditBreak(AUDIT_GENESIS_HASH, records), -1)
  assert.equal(records[1].hash, reference(records[0].hash, records[1]))
  const edited = [records[0], { ...records[1], detail: { b: 1, a: 3 } }]
  assert.equal(findAuditBreak(AUDIT_GENESIS_HASH, edited), 1)
})
