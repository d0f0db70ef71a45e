/** Test helpers: deterministic signers and events. */
import { signEvent } from '../../src/core/event.ts'
import type { Digest, EventType, Hlc, JsonObject, SignedEvent } from '../../src/core/types.ts'
import { type Signer, signerFromSeed } from '../../src/util/crypto.ts'
import { nextLogPosition } from './log-position.ts'

/** A signer from a one-byte seed pattern: signer(1), signer(2), ... are distinct fixed keys. */
export function testSigner(n: number): Signer {
  return signerFromSeed(new Uint8Array(32).fill(n))
}

let counter = 0
/** A UUID that is unique within a test run and deterministic in order. */
export function testUuid(n = ++counter): string {
  const h = n.toString(16).padStart(12, '0')
  return `00000000-0000-4000-8000-${h}`
}

export function makeEvent(
  signer: Signer,
  opts: {
    type?: EventType
    target?: string
    payload?: JsonObject
    hlc?: Hlc
    parents?: Digest[]
    eventId?: string
    /** Position in the signer's log; default: the next one (test/helpers/log-position.ts). */
    seq?: number
  },
): SignedEvent {
  return signEvent(
    {
      eventId: opts.eventId ?? testUuid(),
      type: opts.type ?? 'persona_update',
      targetId: opts.target ?? 'p1',
      payload: opts.payload ?? { op: 'set', fields: { name: 'Ada' } },
      hlc: opts.hlc ?? { wallMs: 1_764_000_000_000, counter: 0 },
      parents: opts.parents ?? [],
      ...(opts.seq === undefined
        ? nextLogPosition(signer)
        : { log: nextLogPosition(signer).log, seq: opts.seq }),
    },
    signer,
  )
}
