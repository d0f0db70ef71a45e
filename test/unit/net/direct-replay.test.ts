/**
 * The direct fan-out's replay (src/net/direct.ts): a peer that becomes reachable on a direct
 * stream (a new connection, a reconnect) is sent what the node fanned out in the last
 * DIRECT_REPLAY_MS, bounded by DIRECT_REPLAY_EVENTS_MAX; never what that peer sent it. Real
 * libp2p hosts on 127.0.0.1/tcp/0, mDNS off. The counts are of frames sent and received on the
 * direct streams, whichever path (catch-up on connect, the replay) stores an event first.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import type { SignedEvent } from '../../../src/core/types.ts'
import {
  DIRECT_REPLAY_EVENTS_MAX,
  DIRECT_REPLAY_MS,
  DIRECT_UNKNOWN_SUBSCRIPTIONS_MS,
} from '../../../src/net/constants.ts'
import { topicOf } from '../../../src/net/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'
import { runCleanup, startNode, type TestNode, waitFor, waitForSubscribers } from './helpers.ts'

const TOPIC = topicOf('persona_update')
const stat = (n: TestNode, name: string) => n.net.stats[name] ?? 0
const lone = { targetConnections: 0 }
const received = (n: TestNode) => stat(n, 'direct.accepted_events') + stat(n, 'direct.duplicates')

async function connect(x: TestNode, y: TestNode): Promise<void> {
  await x.net.dial(y.addr())
  await waitFor('both know the other speaks direct', () =>
    Boolean(x.net.direct?.speaks(y.net.peerId) && y.net.direct?.speaks(x.net.peerId)),
  )
}

const made = (seed: number, n: number, tag: string) => {
  const signer = testSigner(seed)
  return Array.from({ length: n }, (_, i) => {
    const e = makeEvent(signer, {
      target: `${tag}${i}`,
      payload: { op: 'set', fields: { i } },
      hlc: { wallMs: Date.now(), counter: i },
    })
    return { signed: e.signed, signature: e.signature, digest: e.digest }
  })
}

describe('direct fan-out: replay to a peer that becomes reachable', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('a peer that connects after the writes gets them on its direct stream at once', async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    const written: SignedEvent[] = []
    for (let i = 0; i < 5; i++)
      written.push(await a.api.write('persona_update', `w${i}`, { op: 'set', fields: { i } }))
    await waitFor('a published the 5 (to nobody)', () => (a.net.direct?.recentEvents ?? 0) >= 5)
    await connect(b, a)
    await waitFor('a replayed the 5 to b', () => stat(a, 'direct.replayed_events') >= 5)
    await waitFor('b received 5 frames', () => received(b) >= 5)
    await waitFor('b holds the 5', () => written.every((e) => b.api.has(e.digest)))
    assert.equal(stat(a, 'direct.replayed_events'), 5)
    assert.equal(received(b), 5, 'one copy each')
  })

  it('never replays to a peer what that peer sent; replays again after a reconnect', async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    await connect(b, a)
    await waitForSubscribers([a, b], TOPIC, 1)
    const written: SignedEvent[] = []
    for (let i = 0; i < 4; i++)
      written.push(await a.api.write('persona_update', `r${i}`, { op: 'set', fields: { i } }))
    await waitFor('b holds the 4', () => written.every((e) => b.api.has(e.digest)))
    assert.equal(stat(b, 'direct.accepted_events'), 4)
    await waitFor('b keeps the 4 it relayed on (to nobody)', () => b.net.direct?.recentEvents === 4)
    await a.net.libp2p?.hangUp(peerIdFromString(b.net.peerId))
    await waitFor(
      'a and b forgot each other',
      () => !a.net.direct?.speaks(b.net.peerId) && !b.net.direct?.speaks(a.net.peerId),
    )
    await connect(b, a)
    await waitFor('a replayed its 4 to b', () => stat(a, 'direct.replayed_events') >= 4)
    await waitFor('b received them again', () => received(b) >= 8)
    assert.equal(stat(a, 'direct.replayed_events'), 4)
    assert.equal(stat(b, 'direct.duplicates'), 4, 'b held them: duplicates, not stored again')
    assert.equal(stat(b, 'direct.replayed_events'), 0, 'b does not send a what a sent it')
    assert.equal(received(a), 0)
  })

  it(`replays at most DIRECT_REPLAY_EVENTS_MAX (${DIRECT_REPLAY_EVENTS_MAX}), the newest`, async () => {
    const a = await startNode(lone, cleanup)
    const b = await startNode(lone, cleanup)
    const extra = 100
    const events = made(601, DIRECT_REPLAY_EVENTS_MAX + extra, 'm')
    assert.deepEqual(a.net.direct?.publish(events), events, 'no peer: all left for gossip')
    assert.equal(a.net.direct?.recentEvents, DIRECT_REPLAY_EVENTS_MAX)
    await connect(b, a)
    await waitFor('b received the replay', () => received(b) >= DIRECT_REPLAY_EVENTS_MAX, 30_000)
    assert.equal(stat(a, 'direct.replayed_events'), DIRECT_REPLAY_EVENTS_MAX)
    const kept = events.slice(extra)
    await waitFor('b holds the newest', () => kept.every((e) => b.api.has(e.digest)), 30_000)
    assert.ok(
      events.slice(0, extra).every((e) => !b.api.has(e.digest)),
      'the oldest were not kept',
    )
  })

  it(`replays only the last DIRECT_REPLAY_MS (${DIRECT_REPLAY_MS} ms)`, async () => {
    let shift = 0
    const a = await startNode({ ...lone, now: () => Date.now() + shift }, cleanup)
    const b = await startNode(lone, cleanup)
    const old = made(602, 3, 'o')
    a.net.direct?.publish(old)
    shift = DIRECT_REPLAY_MS + 1_000
    const fresh = made(603, 2, 'f')
    a.net.direct?.publish(fresh)
    assert.equal(a.net.direct?.recentEvents, 2, 'the old ones were dropped')
    await connect(b, a)
    await waitFor('b received the replay', () => received(b) >= 2)
    assert.equal(stat(a, 'direct.replayed_events'), 2)
    await waitFor('b holds the fresh ones', () => fresh.every((e) => b.api.has(e.digest)))
  })

  it(`sends a peer whose subscriptions are unknown every event for DIRECT_UNKNOWN_SUBSCRIPTIONS_MS (${DIRECT_UNKNOWN_SUBSCRIPTIONS_MS} ms) after its identify, then only what it subscribes to`, async () => {
    // b takes vector_update only: a never sees it subscribe to persona_update (a's only type),
    // so b stays a peer of unknown subscriptions to a, for a's clock.
    let shift = 0
    const a = await startNode(
      { ...lone, dataTypes: ['persona_update'], now: () => Date.now() + shift },
      cleanup,
    )
    const b = await startNode({ ...lone, dataTypes: ['vector_update'] }, cleanup)
    await connect(b, a)
    const sent = () => stat(a, 'direct.sent_frames')
    const before = sent()
    a.net.direct?.publish(made(604, 3, 'u'))
    assert.equal(sent() - before, 3, 'within the window: sent to b')
    await waitFor('b ignored the 3 (a type it does not take)', () => stat(b, 'direct.unsubscribed_type') >= 3)
    shift = DIRECT_UNKNOWN_SUBSCRIPTIONS_MS + 1_000
    const after = sent()
    a.net.direct?.publish(made(605, 2, 'v'))
    assert.equal(sent() - after, 0, 'after the window: b is not known to take it, nothing sent')
    assert.equal(stat(b, 'direct.unsubscribed_type'), 3)
  })
})
