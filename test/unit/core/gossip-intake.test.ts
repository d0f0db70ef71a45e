/** The core's gossip intake, driven by hand: messages in, steps out, no libp2p. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  GossipIntake,
  type GossipIntakeInit,
  type GossipPayload,
  type GossipStep,
} from '../../../src/core/gossip-intake.ts'
import type { StoredEvent } from '../../../src/core/records.ts'
import type { SignedEvent } from '../../../src/core/types.ts'
import { verifyEd25519 } from '../../../src/util/crypto.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const ctx = { nowMs: 1_764_000_000_000, driftMaxMs: 60_000 }
const signer = testSigner(41)
const wire = (e: SignedEvent): StoredEvent => ({ signed: e.signed, signature: e.signature })
const events = (n: number, type: 'persona_update' | 'graph_update' = 'persona_update') =>
  Array.from({ length: n }, (_, i) =>
    makeEvent(signer, {
      type,
      target: `t${i}`,
      payload:
        type === 'persona_update' ? { op: 'set', fields: { n: i } } : { op: 'add_node', node_id: `n${i}` },
    }),
  )
const msg = (list: readonly SignedEvent[]): GossipPayload => ({ kind: 'events', events: list.map(wire) })

function intake(over: Partial<GossipIntakeInit> = {}, seen = new Set<string>()): GossipIntake {
  return new GossipIntake({ seen: (d) => seen.has(d), poolVerifyMin: 16, fetchesMax: 2, ...over })
}

/** Runs a reception to its end, answering verify steps with a real verification. */
function run(i: GossipIntake, payload: GossipPayload): GossipStep {
  const r = i.receive('persona_update', payload)
  for (;;) {
    const s = r.step(ctx)
    if (s.kind === 'verify') r.verified(s.items.map((x) => verifyEd25519(x.key, x.message, x.signature)))
    else return s
  }
}

describe('GossipIntake', () => {
  test('a small message is checked inline and accepted; its digests come in order', () => {
    const list = events(3)
    const s = run(intake(), msg(list))
    assert.equal(s.kind, 'accept')
    assert.deepEqual(
      s.kind === 'accept' ? s.digests : [],
      list.map((e) => e.digest),
    )
  })

  test('an unknown topic, or an event of another type than the topic, is rejected', () => {
    const r = intake().receive(undefined, msg(events(1)))
    assert.deepEqual(r.step(ctx), { kind: 'reject', why: 'unknown_topic' })
    const other = intake().receive('graph_update', msg(events(1)))
    assert.deepEqual(other.step(ctx), { kind: 'reject', why: 'wrong_topic' })
  })

  test('what is seen (or twice in one message) is skipped; nothing new is ignored', () => {
    const list = events(2)
    const seen = new Set([list[0].digest])
    const s = run(intake({}, seen), msg([list[0], list[1], list[1]]))
    assert.equal(s.kind, 'accept')
    assert.deepEqual(s.kind === 'accept' ? s.digests : [], [list[1].digest])
    seen.add(list[1].digest)
    assert.deepEqual(run(intake({}, seen), msg(list)), { kind: 'ignore' })
  })

  test('a bad signature or an event too far ahead rejects the whole message', () => {
    const [a, b] = events(2)
    const forged = { ...wire(b), signature: new Uint8Array(64).fill(1) }
    const s = run(intake(), { kind: 'events', events: [wire(a), forged] })
    assert.deepEqual(s, { kind: 'reject', why: 'bad_signature' })
    const ahead = makeEvent(signer, { hlc: { wallMs: ctx.nowMs + 3_600_000, counter: 0 } })
    const t = run(intake(), msg([ahead]))
    assert.equal(t.kind, 'reject')
  })

  test('a large message verifies its signatures in one step; a false flag rejects, all seen meanwhile ignores', () => {
    const list = events(20)
    const r = intake().receive('persona_update', msg(list))
    const v = r.step(ctx)
    assert.equal(v.kind, 'verify')
    assert.equal(v.kind === 'verify' ? v.items.length : 0, 20)
    r.verified(list.map((_, i) => i !== 7))
    assert.deepEqual(r.step(ctx), { kind: 'reject', why: 'bad_signature' })
    assert.deepEqual(r.step(ctx), { kind: 'reject', why: 'bad_signature' }, 'a final step stays')

    const seen = new Set<string>()
    const r2 = intake({}, seen).receive('persona_update', msg(list))
    assert.equal(r2.step(ctx).kind, 'verify')
    for (const e of list) seen.add(e.digest)
    r2.verified(list.map(() => true))
    assert.deepEqual(r2.step(ctx), { kind: 'ignore' })
    assert.throws(() => r2.verified([]), /without a verify step/)
  })

  test('an announce: fetched, matched to its digest and size, then checked; faults of the fetch', () => {
    const [big] = events(1)
    const size = big.signed.byteLength + big.signature.byteLength
    const announce: GossipPayload = { kind: 'announce', digest: Buffer.from(big.digest, 'hex'), size }
    const i = intake()
    const fetchOf = () => {
      const r = i.receive('persona_update', announce)
      const s = r.step(ctx)
      assert.equal(s.kind, 'fetch')
      return r
    }
    let r = fetchOf()
    assert.throws(() => r.step(ctx), /waiting for fetched/)
    r.fetched([wire(big)])
    const ok = r.step(ctx)
    assert.equal(ok.kind, 'accept')
    assert.deepEqual(ok.kind === 'accept' ? ok.announced : undefined, wire(big))

    r = fetchOf()
    r.fetched('failed')
    assert.deepEqual(r.step(ctx), { kind: 'ignore', why: 'announce_fetch_failed' })
    r = fetchOf()
    r.fetched([])
    assert.deepEqual(r.step(ctx), { kind: 'ignore', why: 'announce_fetch_missing' })
    r = fetchOf()
    r.fetched([wire(events(1)[0])])
    assert.deepEqual(r.step(ctx), { kind: 'reject', why: 'fetch_mismatch' })
    const wrongSize = intake().receive('persona_update', { ...announce, size: size + 1 })
    wrongSize.step(ctx)
    wrongSize.fetched([wire(big)])
    assert.deepEqual(wrongSize.step(ctx), { kind: 'reject', why: 'announce_size' })
    assert.equal(i.fetches, 0, 'every fetch slot was given back')

    const seen = new Set([big.digest])
    assert.deepEqual(intake({}, seen).receive('persona_update', announce).step(ctx), { kind: 'ignore' })
  })

  test('at most fetchesMax announce fetches at once; a finished fetch frees its slot', () => {
    const i = intake({ fetchesMax: 1 })
    const [e] = events(1)
    const announce: GossipPayload = {
      kind: 'announce',
      digest: Buffer.from(e.digest, 'hex'),
      size: e.signed.byteLength + e.signature.byteLength,
    }
    const first = i.receive('persona_update', announce)
    assert.equal(first.step(ctx).kind, 'fetch')
    assert.deepEqual(i.receive('persona_update', announce).step(ctx), {
      kind: 'ignore',
      why: 'announce_busy',
    })
    first.fetched('failed')
    assert.equal(i.receive('persona_update', announce).step(ctx).kind, 'fetch')
  })
})
