import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKey } from '@libp2p/pnet'
import { NotAMemberError, topicOf } from '../../../src/net/index.ts'
import { signerFromSeed } from '../../../src/util/crypto.ts'
import { newSeed } from '../../../src/util/random.ts'
import { runCleanup, startNode, waitFor, waitForSubscribers } from './helpers.ts'

const keyOf = (seed: Uint8Array) => Buffer.from(signerFromSeed(seed).publicKey).toString('hex')

describe('membership: allow-list', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('a non-member is refused by the gater both ways; members connect', async () => {
    const [sa, sb, sc] = [newSeed(), newSeed(), newSeed()]
    const members = [keyOf(sa), keyOf(sb)]
    const a = await startNode({ seed: sa, members }, cleanup)
    const b = await startNode({ seed: sb, members }, cleanup)
    const outsider = await startNode({ seed: sc }, cleanup) // open federation itself

    await b.net.dial(a.addr())
    await waitFor('a lists b as connected', () =>
      a.net.peers().some((p) => p.peerId === b.net.peerId && p.connected),
    )

    // inbound: the outsider dials a member; a refuses once Noise has authenticated it, and the
    // outsider's dial reports that the peer closed the connection
    await assert.rejects(outsider.net.dial(a.addr()), { name: 'PeerClosedError', code: 'peer_closed' })
    await waitFor('a counted an inbound refusal', () => (a.net.stats['membership.denied_inbound'] ?? 0) >= 1)
    await waitFor(
      'the outsider has no connection to a',
      () => !outsider.net.peers().some((p) => p.peerId === a.net.peerId && p.connected),
    )
    assert.equal(
      a.net.peers().some((p) => p.peerId === outsider.net.peerId && p.connected),
      false,
    )
    assert.equal(a.net.stats['peers.connected'], 1)

    // outbound: a member will not dial a non-member, named or not
    await assert.rejects(a.net.dial(outsider.addr()), NotAMemberError)
    const bare = outsider.addr().replace(/\/p2p\/.*$/, '')
    await assert.rejects(a.net.dial(bare))
    assert.ok((a.net.stats['membership.denied_outbound'] ?? 0) >= 1)
  })

  it('events authored by a non-member are rejected even when a member relays them', async () => {
    const [sa, sb, sc] = [newSeed(), newSeed(), newSeed()]
    const a = await startNode({ seed: sa, members: [keyOf(sa), keyOf(sb)] }, cleanup)
    const relay = await startNode({ seed: sb }, cleanup) // a member that runs open (misconfigured)
    const outsider = await startNode({ seed: sc }, cleanup)
    await relay.net.dial(a.addr())
    await outsider.net.dial(relay.addr())
    const topic = topicOf('persona_update')
    await waitForSubscribers([a, outsider], topic, 1)
    await waitFor(
      'relay sees both subscribers',
      () => (relay.net.libp2p?.services.pubsub.getSubscribers(topic).length ?? 0) >= 2,
    )
    const ev = await outsider.api.write('persona_update', 'p', { op: 'set', fields: { who: 'outsider' } })
    await waitFor('the relay stores it (open)', () => relay.api.has(ev.digest))
    // relayed by gossip or, in this small federation, on the relay's direct stream
    await waitFor(
      'a rejects it: unknown author',
      () =>
        (a.net.stats['gossip.reject.unknown_author'] ?? 0) +
          (a.net.stats['direct.reject.unknown_author'] ?? 0) >=
        1,
    )
    assert.equal(a.api.has(ev.digest), false)
  })
})

describe('membership: private network key (pnet)', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('nodes with the same swarm key connect; a node with another key cannot', async () => {
    const key = new Uint8Array(95)
    generateKey(key)
    const other = new Uint8Array(95)
    generateKey(other)
    const a = await startNode({ pnetKey: key }, cleanup)
    const b = await startNode({ pnetKey: key }, cleanup)
    const c = await startNode({ pnetKey: other }, cleanup)
    const d = await startNode({}, cleanup)
    await b.net.dial(a.addr())
    assert.ok(b.net.peers().some((p) => p.peerId === a.net.peerId && p.connected))
    await assert.rejects(c.net.dial(a.addr()))
    await assert.rejects(d.net.dial(a.addr()))
    assert.equal(a.net.peers().filter((p) => p.connected).length, 1)
  })
})
