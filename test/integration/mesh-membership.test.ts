/**
 * Federation membership and hostile peers, with real nodes on 127.0.0.1 (mDNS off):
 *
 * - a federation of 3 members (each node's `members` = the 3 keys); a 4th node, not in the
 *   list, bootstraps to a member: its connection is refused after Noise (the member counts
 *   `membership.denied_inbound`), it has no peer, a member refuses to dial it, and its events
 *   — written on it, or handed to a member over HTTP — are stored nowhere (`unknown_author`);
 * - a member that publishes invalid events on a gossip topic (bad signature, garbage, an event
 *   by a non-member author) is rejected by every receiver, the events are not stored, and its
 *   gossipsub score on the receivers goes negative; the push protocol refuses a bad signature.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { signEvent } from '../../src/core/event.ts'
import type { EventType, JsonObject } from '../../src/core/types.ts'
import { topicOf } from '../../src/net/index.ts'
import { loadOrCreateIdentity } from '../../src/node/index.ts'
import { type Signer, signerFromSeed } from '../../src/util/crypto.ts'
import { encodeGossipEvent } from '../../src/wire/index.ts'
import { nextLogPosition } from '../helpers/log-position.ts'
import {
  connectedPeers,
  converged,
  type Mesh,
  type MeshNode,
  postJson,
  pubsubOf,
  startMesh,
  summaries,
  waitFor,
  waitForPeers,
} from '../helpers/mesh.ts'

const DEADLINE_MS = 30_000
const run = randomUUID().slice(0, 8)

async function signerOf(n: MeshNode): Promise<Signer> {
  return signerFromSeed((await loadOrCreateIdentity(n.dir)).seed)
}

function sign(signer: Signer, type: EventType, target: string, payload: JsonObject) {
  return signEvent(
    {
      eventId: randomUUID(),
      type,
      targetId: `${run}-${target}`,
      payload,
      hlc: { wallMs: Date.now(), counter: 0 },
      parents: [],
      ...nextLogPosition(signer),
    },
    signer,
  )
}

describe('federation membership and invalid events (real nodes, loopback)', () => {
  let mesh: Mesh
  let members: MeshNode[]
  let outsider: MeshNode

  before(async () => {
    // a federation of the 3 keys, every member bootstrapped to every member before it
    mesh = await startMesh(3, { members: true, bootstrap: 'all' })
    members = [...mesh.nodes]
    // a stranger (open federation itself) that knows a member's address
    outsider = await mesh.create({ bootstrap: [members[0].addr()] })
    await outsider.start()
  })
  after(() => mesh?.close())

  it('a node not in the members list cannot connect and its events are stored nowhere', async () => {
    const [a, b, c] = members
    await waitForPeers(members, 2, DEADLINE_MS)
    assert.equal((await a.status()).members, 3)

    // the outsider's bootstrap dials reach node 0 and are refused once Noise has authenticated it
    await waitFor(
      'node 0 refuses the outsider after the handshake',
      () => (a.node.network!.stats['membership.denied_inbound'] ?? 0) >= 1,
      DEADLINE_MS,
      () => a.node.network!.stats,
    )
    // The outsider learns of the close a moment after the member's gater acted (and its redialer
    // may be half-way through another attempt that is refused the same way): wait for it.
    await waitFor(
      'the outsider sees no open connection',
      () => connectedPeers(outsider).length === 0,
      DEADLINE_MS,
      () => connectedPeers(outsider),
    )
    for (const m of members) assert.equal(connectedPeers(m).includes(outsider.peerId), false)
    // a dial by hand is refused the same way (HTTP POST /peers on the outsider), and the answer
    // says so: the dialler finishes its side of Noise before the member's gater closes the
    // connection, so the dial waits for the peer to identify itself and reports the close.
    const deniedB = b.node.network!.stats['membership.denied_inbound'] ?? 0
    const dialled = await postJson(`${outsider.url}/peers`, { multiaddr: b.addr() })
    assert.equal(dialled.status, 502, JSON.stringify(dialled.body))
    assert.equal(dialled.body.error, 'dial_failed')
    assert.match(dialled.body.message, /closed the connection right after the handshake/)
    await waitFor(
      'node 1 refuses the outsider after the handshake',
      () => (b.node.network!.stats['membership.denied_inbound'] ?? 0) > deniedB,
      DEADLINE_MS,
      () => b.node.network!.stats,
    )
    await waitFor(
      'the outsider has no connection',
      () => connectedPeers(outsider).length === 0,
      DEADLINE_MS,
      () => connectedPeers(outsider),
    )
    // and a member will not dial a non-member at all
    const back = await postJson(`${a.url}/peers`, { multiaddr: outsider.addr() })
    assert.equal(back.status, 403, JSON.stringify(back.body))
    assert.equal(back.body.error, 'not_a_member')

    // the outsider writes locally: nothing reaches the members
    const w = await outsider.push([
      {
        event_type: 'persona_update',
        target_id: `${run}-intruder`,
        payload: { op: 'set', fields: { x: 1 } },
      },
    ])
    assert.equal(w.accepted, 1)
    // a member writes: it reaches the other members but not the outsider
    const m = await c.push([
      { event_type: 'persona_update', target_id: `${run}-member`, payload: { op: 'set', fields: { y: 2 } } },
    ])
    assert.equal(m.accepted, 1)
    await waitFor(
      'members converge on the member write',
      () => converged(members, 1),
      DEADLINE_MS,
      () => summaries(members),
    )
    assert.equal((await outsider.status()).events, 1)

    // the outsider's signed event handed to a member over HTTP is refused as unknown_author
    const pulled = await postJson(`${outsider.url}/sync/pull`, { cursor: 's.0' })
    assert.equal(pulled.status, 200)
    const signed = pulled.body.events[0]
    assert.equal(signed.author, outsider.publicKey)
    const relay = await postJson(`${b.url}/sync/push`, [signed])
    assert.equal(relay.status, 200)
    assert.equal(relay.body.accepted, 0)
    assert.equal(relay.body.rejected[0]?.error, 'unknown_author')
    for (const n of members) {
      assert.equal(await n.node.api.state('persona_update', `${run}-intruder`), undefined)
      assert.equal((await n.status()).events, 1)
    }
  })

  it('a member publishing invalid events is rejected by every receiver and scored down', async () => {
    const [a, b, evil] = members
    const topic = topicOf('persona_update')
    await waitForPeers(members, 2, DEADLINE_MS)
    const evilSigner = await signerOf(evil)
    const strangerSigner = await signerOf(outsider)
    const rejectsBefore = [a, b].map((n) => n.node.network!.stats['gossip.reject'] ?? 0)

    // 1. signed by the sender, signature broken
    const forged = sign(evilSigner, 'persona_update', 'forged', { op: 'set', fields: { name: 'Mallory' } })
    const badSig = new Uint8Array(forged.signature)
    badSig[0] ^= 0xff
    // 2. bytes that are no event at all
    const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])
    // 3. a correctly signed event whose author is not a member
    const foreign = sign(strangerSigner, 'persona_update', 'foreign', { op: 'set', fields: { name: 'Eve' } })

    const pubsub = pubsubOf(evil)
    await pubsub.publish(topic, encodeGossipEvent(forged.signed, badSig))
    await pubsub.publish(topic, garbage)
    await pubsub.publish(topic, encodeGossipEvent(foreign.signed, foreign.signature))

    for (const [i, n] of [a, b].entries()) {
      const stats = n.node.network!.stats
      await waitFor(
        `node ${n.index} rejects the three messages`,
        () => (stats['gossip.reject'] ?? 0) >= rejectsBefore[i] + 3,
        DEADLINE_MS,
        () => stats,
      )
      assert.ok((stats['gossip.reject.bad_signature'] ?? 0) >= 1, JSON.stringify(stats))
      assert.ok((stats['gossip.reject.unknown_author'] ?? 0) >= 1, JSON.stringify(stats))
      assert.ok((stats['gossip.reject.wire_malformed'] ?? 0) >= 1, JSON.stringify(stats))
      // gossipsub refreshes scores at its heartbeat (1 s)
      const score = () => n.node.network!.peers().find((p) => p.peerId === evil.peerId)?.score ?? 0
      await waitFor(`node ${n.index} scores the sender below zero`, () => score() < 0, DEADLINE_MS, score)
      assert.equal(await n.node.api.state('persona_update', `${run}-forged`), undefined)
      assert.equal(await n.node.api.state('persona_update', `${run}-foreign`), undefined)
    }

    // the push protocol (the mesh's client API) refuses the same forged event, naming why
    const pushed = await evil.node.network!.push(a.peerId, [{ signed: forged.signed, signature: badSig }])
    assert.equal(pushed.accepted, 0)
    assert.equal(pushed.rejected[0]?.error, 'bad_signature')
    // the honest members' state did not move: one event each, the member write of the first test
    for (const n of [a, b]) assert.equal((await n.status()).events, 1)
  })
})
