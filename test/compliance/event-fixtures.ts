/** Real signed events and records for the store tests, built from fixed seeds (deterministic). */
import { signEvent } from '../../src/core/event.ts'
import type { AuditDraft, CommitBatch } from '../../src/core/ports.ts'
import type { ConflictRecord, StoredEvent } from '../../src/core/records.ts'
import { emptyTarget, type TargetState } from '../../src/core/target-state.ts'
import type { ConflictId, Digest, EventType, JsonObject, SignedEvent } from '../../src/core/types.ts'
import { type Signer, signerFromSeed } from '../../src/util/crypto.ts'
import { nextLogPosition } from '../helpers/log-position.ts'

export const alice: Signer = signerFromSeed(new Uint8Array(32).fill(7))
export const bob: Signer = signerFromSeed(new Uint8Array(32).fill(8))

/** Deterministic UUID (v4 layout) from a number. */
export function uuid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
}

function payloadFor(type: EventType, n: number): JsonObject {
  switch (type) {
    case 'vector_update':
      return { op: 'upsert', values: [n, n / 2] }
    case 'persona_update':
      return { op: 'set', fields: { name: `p${n}` } }
    case 'document_update':
      return { op: 'put', content: `document ${n}` }
    case 'graph_update':
      return { op: 'add_edge', from: 'a', to: 'b', label: `l${n}` }
  }
}

export interface EventSpec {
  n: number
  type?: EventType
  target?: string
  wallMs?: number
  counter?: number
  signer?: Signer
  eventId?: string
  parents?: Digest[]
}

/** A signed event; `n` makes its id and payload unique. */
export function makeEvent(spec: EventSpec): SignedEvent {
  const type = spec.type ?? 'persona_update'
  return signEvent(
    {
      eventId: spec.eventId ?? uuid(spec.n),
      type,
      targetId: spec.target ?? 'target-1',
      payload: payloadFor(type, spec.n),
      hlc: { wallMs: spec.wallMs ?? 1_700_000_000_000 + spec.n, counter: spec.counter ?? 0 },
      parents: spec.parents ?? [],
      ...nextLogPosition(spec.signer ?? alice),
    },
    spec.signer ?? alice,
  )
}

export function stored(e: SignedEvent): StoredEvent {
  return { signed: e.signed, signature: e.signature }
}

export function batchOf(parts: Partial<CommitBatch>): CommitBatch {
  return { events: [], targets: [], conflicts: [], equivocations: [], audit: [], meta: {}, ...parts }
}

export function targetState(type: EventType, target: string, e?: SignedEvent): TargetState {
  const t = emptyTarget(type, target)
  if (e !== undefined) {
    t.cells['field:name'] = { w: { d: e.digest, s: `0000${e.author}`, h: '0123456789abcdef', v: 'x' }, f: [] }
    t.heads = [e.digest]
    t.events = 1
    t.lastHlc = '018bcfe568000000'
  }
  return t
}

export function conflict(
  id: string,
  status: ConflictRecord['status'],
  sides: SignedEvent[] = [],
): ConflictRecord {
  return {
    id: id as ConflictId,
    type: 'persona_update',
    target: 'target-1',
    cell: 'field:name',
    sides: sides.map((e) => ({
      digest: e.digest,
      eventId: e.eventId,
      author: e.author,
      hlc: `${e.hlc.wallMs}:${e.hlc.counter}`,
      value: 'v',
    })),
    winner: (sides[0]?.digest ?? '0'.repeat(64)) as Digest,
    status,
    detectedAtMs: 1_700_000_000_000,
    ...(status === 'open' ? {} : { closedAtMs: 1_700_000_000_500 }),
  }
}

export function audit(op: string, n: number): AuditDraft {
  return { atMs: 1_700_000_000_000 + n, op, origin: 'local', detail: { n, note: 'ü / ! \u0000' } }
}
