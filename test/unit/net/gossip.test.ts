import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromString } from '@libp2p/peer-id'
import { signEvent } from '../../../src/core/event.ts'
import type { EventType, JsonObject } from '../../../src/core/types.ts'
import { GOSSIP_POOL_VERIFY_MIN } from '../../../src/net/constants.ts'
import { topicOf } from '../../../src/net/index.ts'
import { verifyEd25519 } from '../../../src/util/crypto.ts'
import { encodeGossipEvent, encodeGossipEvents } from '../../../src/wire/index.ts'
import { nextLogPosition } from '../../helpers/log-position.ts'
import { runCleanup, startNode, type TestNode, waitFor, waitForSubscribers } from './helpers.ts'

const persona = (name: string) => ({ op: 'set', fields: { name } })

describe('gossip: delivery, type filter, validation', () => {
  const cleanup: Array<() => Promise<void>> = []
  let a: TestNode
  let b: TestNode
  let c: TestNode

  before(async () => {
    a = await startNode({ directPeersMax: 0, announceBytesMin: 4096 }, cleanup)
    b = await startNode({ directPeersMax: 0 }, cleanup)
    // c replicates vectors only
    c = await startNode({ directPeersMax: 0, dataTypes: ['vector_update'] }, cleanup)
    await b.net.dial(a.addr())
    await c.net.dial(a.addr())
    await c.net.dial(b.addr())
    await waitForSubscribers([a, b], topicOf('persona_update'), 1)
    await waitForSubscribers([a, b, c], topicOf('vector_update'), 2)
  })
  after(() => runCleanup(cleanup))

  it('an event written on one node reaches the others on its type topic', async () => {
    const ev = await a.api.write('persona_update', 'p1', persona('Ada'))
    await waitFor('b stores the persona event', () => b.api.has(ev.digest))
    const v = await b.api.write('vector_update', 'v1', { op: 'upsert', values: [1, 2, 3] })
    await waitFor('a and c store the vector event', () => a.api.has(v.digest) && c.api.has(v.digest))
    assert.equal(b.api.origins[b.api.byDigest.get(ev.digest)! - 1].kind, 'peer')
    assert.equal(b.api.origins[b.api.byDigest.get(ev.digest)! - 1].id, a.net.peerId)
  })

  it('a node subscribes only to its data types: c never receives persona events by gossip', async () => {
    assert.deepEqual(c.net.libp2p!.services.pubsub.getTopics(), [topicOf('vector_update')])
    const p = await b.api.write('persona_update', 'p2', persona('Grace'))
    const v = await b.api.write('vector_update', 'v2', { op: 'upsert', values: [4] })
    await waitFor('c stores the vector event', () => c.api.has(v.digest))
    await waitFor('a stores the persona event', () => a.api.has(p.digest))
    assert.equal(c.api.has(p.digest), false)
    assert.ok(c.api.log.every((r) => r.type === 'vector_update'))
  })

  it('large events are announced by digest and fetched by pull', async () => {
    const big = 'x'.repeat(8000)
    const ev = await a.api.write('document_update', 'd1', { op: 'put', content: big })
    await waitFor('b stores the large event', () => b.api.has(ev.digest))
    assert.ok((a.net.stats['gossip.announced'] ?? 0) >= 1)
    assert.ok((a.net.stats['pull.fetch_served'] ?? 0) >= 1)
    assert.ok((b.net.stats['gossip.accept'] ?? 0) >= 1)
  })

  it('a burst of writes leaves in batches; receivers store every event', async () => {
    const before = {
      msgs: a.net.stats['gossip.published'] ?? 0,
      events: a.net.stats['gossip.published_events'] ?? 0,
    }
    const burst = await Promise.all(
      Array.from({ length: 50 }, (_, i) => a.api.write('persona_update', `burst${i}`, persona(`b${i}`))),
    )
    await waitFor('b stores the whole burst', () => burst.every((e) => b.api.has(e.digest)))
    assert.equal((a.net.stats['gossip.published_events'] ?? 0) - before.events, 50)
    assert.ok((a.net.stats['gossip.published'] ?? 0) - before.msgs <= 2, 'one or two messages for 50 events')
  })

  it('a batch with one invalid event is rejected whole; a batch of seen and new events stores the new', async () => {
    const validate = b.net.libp2p!.services.pubsub.topicValidators.get(topicOf('persona_update'))!
    const from = peerIdFromString(a.net.peerId)
    const good = sign(a, 'persona_update', persona('good'), Date.now())
    const bad = sign(a, 'persona_update', persona('bad'), Date.now())
    const badSig = new Uint8Array(bad.signature)
    badSig[5] ^= 1
    const mixed = {
      type: 'unsigned' as const,
      topic: topicOf('persona_update'),
      data: encodeGossipEvents([good, { signed: bad.signed, signature: badSig }]),
    }
    assert.equal(await validate(from, mixed), TopicValidatorResult.Reject)
    const seen = await a.api.write('persona_update', 'seen', persona('seen'))
    await waitFor('b has the seen event', () => b.api.has(seen.digest))
    const fresh = {
      type: 'unsigned' as const,
      topic: topicOf('persona_update'),
      data: encodeGossipEvents([seen, good]),
    }
    assert.equal(await validate(from, fresh), TopicValidatorResult.Accept)
    await waitFor('b stores the new event of the batch', () => b.api.has(good.digest))
    assert.equal(b.api.has(bad.digest), false)
  })

  it('an event already stored is ignored, not rejected', async () => {
    const ev = await a.api.write('persona_update', 'p3', persona('Edsger'))
    await waitFor('b stores it', () => b.api.has(ev.digest))
    const msg = {
      type: 'unsigned' as const,
      topic: topicOf('persona_update'),
      data: encodeGossipEvent(ev.signed, ev.signature),
    }
    const validate = b.net.libp2p!.services.pubsub.topicValidators.get(msg.topic)!
    assert.equal(await validate(peerIdFromString(a.net.peerId), msg), TopicValidatorResult.Ignore)
  })
})

describe('gossip: a peer sending invalid events is rejected and scored down', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('bad signature, garbage, wrong topic and a future clock are rejected; the sender score drops', async () => {
    const honest = await startNode({ directPeersMax: 0 }, cleanup)
    const evil = await startNode({ directPeersMax: 0 }, cleanup)
    await evil.net.dial(honest.addr())
    const topic = topicOf('persona_update')
    await waitForSubscribers([honest, evil], topic, 1)
    const pubsub = evil.net.libp2p!.services.pubsub

    const good = await evil.api.write('persona_update', 'p', persona('ok'))
    await waitFor('the honest node stores a valid event first', () => honest.api.has(good.digest))

    // Events signed but never stored or published by the sender: the honest node has not seen them.
    const forged = sign(evil, 'persona_update', persona('forged'), Date.now())
    const badSig = new Uint8Array(forged.signature)
    badSig[0] ^= 0xff
    await pubsub.publish(topic, encodeGossipEvent(forged.signed, badSig))
    await pubsub.publish(topic, new Uint8Array([0xde, 0xad, 0xbe, 0xef]))
    const vec = sign(evil, 'vector_update', { op: 'upsert', values: [1] }, Date.now())
    await pubsub.publish(topic, encodeGossipEvent(vec.signed, vec.signature))
    const future = sign(evil, 'persona_update', persona('later'), Date.now() + 3_600_000)
    await pubsub.publish(topic, encodeGossipEvent(future.signed, future.signature))

    const s = honest.net.stats
    await waitFor('four rejections', () => (s['gossip.reject'] ?? 0) >= 4)
    assert.equal(s['gossip.reject.bad_signature'], 1)
    assert.equal(s['gossip.reject.wire_malformed'], 1)
    assert.equal(s['gossip.reject.wrong_topic'], 1)
    assert.equal(s['gossip.reject.clock_drift'], 1)
    assert.equal(honest.api.has(forged.digest), false)
    assert.equal(honest.api.has(future.digest), false)
    // gossipsub caches scores for one heartbeat (1 s)
    const score = () => honest.net.peers().find((p) => p.peerId === evil.net.peerId)?.score ?? 0
    await waitFor('the invalid sender scores below zero', () => score() < 0)
    // 4 invalid messages on the topic: -10 x 4^2 = -160 (decaying): below the gossip threshold (-50)
    assert.ok(score() < -50, `score ${score()}`)
  })
})

describe('gossip: signatures of a large message are checked on the crypto pool', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))
  const calls: number[] = []

  it('16 or more new events: one batch check, a single bad signature rejects the whole message', async () => {
    const a = await startNode({ directPeersMax: 0 }, cleanup)
    const b = await startNode(
      {
        directPeersMax: 0,
        verifyMany: async (items) => {
          calls.push(items.length)
          return items.map((it) => verifyEd25519(it.key, it.message, it.signature))
        },
      },
      cleanup,
    )
    await b.net.dial(a.addr())
    const validate = b.net.libp2p!.services.pubsub.topicValidators.get(topicOf('persona_update'))!
    const from = peerIdFromString(a.net.peerId)
    const message = (events: Array<{ signed: Uint8Array; signature: Uint8Array }>) => ({
      type: 'unsigned' as const,
      topic: topicOf('persona_update'),
      data: encodeGossipEvents(events),
    })
    const batch = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => sign(a, 'persona_update', persona(`${tag}${i}`), Date.now()))

    const few = batch(GOSSIP_POOL_VERIFY_MIN - 1, 'few')
    assert.equal(await validate(from, message(few)), TopicValidatorResult.Accept)
    assert.deepEqual(calls, [], 'below the threshold: verified inline')

    const many = batch(GOSSIP_POOL_VERIFY_MIN, 'many')
    assert.equal(await validate(from, message(many)), TopicValidatorResult.Accept)
    assert.deepEqual(calls, [GOSSIP_POOL_VERIFY_MIN])
    await waitFor('b stores every event of both messages', () =>
      [...few, ...many].every((e) => b.api.has(e.digest)),
    )

    const forged = batch(20, 'forged')
    const badSig = new Uint8Array(forged[13].signature)
    badSig[7] ^= 1
    const tampered = forged.map((e, i) => (i === 13 ? { signed: e.signed, signature: badSig } : e))
    assert.equal(await validate(from, message(tampered)), TopicValidatorResult.Reject)
    assert.deepEqual(calls, [GOSSIP_POOL_VERIFY_MIN, 20])
    assert.equal(b.net.stats['gossip.reject.bad_signature'], 1)
    assert.ok(
      forged.every((e) => !b.api.has(e.digest)),
      'nothing of a rejected message is stored',
    )
  })
})

function sign(node: TestNode, type: EventType, payload: JsonObject, wallMs: number) {
  return signEvent(
    {
      eventId: randomUUID(),
      type,
      targetId: 'x',
      payload,
      hlc: { wallMs, counter: 0 },
      parents: [],
      ...nextLogPosition(node.api.signer),
    },
    node.api.signer,
  )
}
