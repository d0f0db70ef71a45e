import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { SignedEvent } from '../../../src/core/types.ts'
import { topicOf } from '../../../src/net/index.ts'
import { newSeed } from '../../../src/util/random.ts'
import { runCleanup, startNode, waitFor, waitForSubscribers } from './helpers.ts'

const persona = (i: number) => ({ op: 'set', fields: { i } })

describe('catch-up: pull on connect, persisted cursors and peers, redial', () => {
  const cleanup: Array<() => Promise<void>> = []
  const dirs: string[] = []
  after(async () => {
    await runCleanup(cleanup)
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('catch-up does not hand the node again what it is known to have stored (its own events in a peer log)', async () => {
    const a = await startNode({ catchUpIntervalMs: 200 }, cleanup)
    const b = await startNode({ catchUpIntervalMs: 200 }, cleanup)
    await b.net.dial(a.addr())
    const written: SignedEvent[] = []
    for (let i = 0; i < 20; i++) written.push(await a.api.write('persona_update', `own${i}`, persona(i)))
    await waitFor('b has all 20', () => written.every((e) => b.api.has(e.digest)))
    // b's log now holds a's 20 events; a's periodic pull from b brings them back.
    await waitFor('a pulled its own 20 events back from b', () => (a.net.stats['catchup.known'] ?? 0) >= 20)
    assert.equal(a.api.received.get(`peer:${b.net.peerId}`) ?? 0, 0, 'none of them reached pushSigned')
  })

  it('an event gossip validated but the node failed to store still comes by catch-up', async () => {
    const a = await startNode({ catchUpIntervalMs: 60_000 }, cleanup)
    const b = await startNode({ catchUpIntervalMs: 200 }, cleanup)
    await b.net.dial(a.addr())
    await waitForSubscribers([a, b], topicOf('persona_update'), 1)
    b.api.failVerified = true
    // b pulls every 200 ms: on a loaded machine its pull may bring an event before the gossip
    // copy arrives (which is then ignored as seen). Write until a gossip copy was the one taken.
    const validated = () =>
      (b.net.stats['gossip.accepted_events'] ?? 0) + (b.net.stats['direct.accepted_events'] ?? 0)
    let lost: SignedEvent | undefined
    for (let i = 0; i < 10 && lost === undefined; i++) {
      const before = validated()
      const e = await a.api.write('persona_update', `lost-${i}`, persona(i))
      await waitFor(
        'b validated the gossip (or direct) copy, or pulled it',
        () => validated() > before || b.api.has(e.digest),
      )
      if (validated() > before) lost = e
    }
    assert.ok(lost !== undefined, 'a gossip copy was validated')
    await waitFor('and failed to store it', () => (b.net.stats['ingest.failed'] ?? 0) >= 1)
    // (No check that b lacks it here: b pulls every 200 ms, so its catch-up may already have
    // brought it; that the gossip copy failed is what ingest.failed says.)
    b.api.failVerified = false
    await waitFor('b stores it from its next catch-up with a', () => b.api.has(lost.digest))
    assert.ok((b.api.received.get(`peer:${a.net.peerId}`) ?? 0) >= 1)
  })

  it('events refused for a transient reason are not skipped: the cursor is held and they come back', async () => {
    const a = await startNode({}, cleanup)
    const written: SignedEvent[] = []
    for (let i = 0; i < 30; i++) written.push(await a.api.write('persona_update', `t${i}`, persona(i)))
    const b = await startNode({}, cleanup)
    // Events 5..9 are refused once with retry_later (the node's Yjs guard or queue was busy).
    for (const e of written.slice(5, 10)) b.api.refuseOnce.add(e.digest)
    await b.net.dial(a.addr())
    await waitFor(
      'b refused 5 events for a transient reason',
      () => (b.net.stats['catchup.transient'] ?? 0) >= 5,
    )
    // The periodic pull is 60 s away: only the held cursor and its retry bring them.
    await waitFor('b holds all 30 after the retry', () => written.every((e) => b.api.has(e.digest)), 15_000)
    assert.equal(b.api.refuseOnce.size, 0)
    assert.ok((b.net.stats['catchup.retries'] ?? 0) >= 1)
    await b.net.catchUpIdle()
    await waitFor(
      'and its cursor then reaches the end of a log',
      () => b.net.peers().find((p) => p.peerId === a.net.peerId)?.lastSeq === 30,
    )
  })

  it('a node that throws busy during catch-up is pulled again from the same cursor', async () => {
    const a = await startNode({}, cleanup)
    const written: SignedEvent[] = []
    for (let i = 0; i < 12; i++) written.push(await a.api.write('persona_update', `u${i}`, persona(i)))
    const b = await startNode({}, cleanup)
    b.api.busyCalls = 1
    await b.net.dial(a.addr())
    await waitFor('b holds all 12 after the retry', () => written.every((e) => b.api.has(e.digest)), 15_000)
    assert.ok((b.net.stats['catchup.failed'] ?? 0) >= 1)
    assert.ok((b.net.stats['catchup.retries'] ?? 0) >= 1)
  })

  it('publishing with no peers loses nothing: a node that connects later pulls it all', async () => {
    const a = await startNode({}, cleanup)
    const written: SignedEvent[] = []
    for (let i = 0; i < 30; i++) written.push(await a.api.write('persona_update', `p${i}`, persona(i)))
    await waitFor(
      'a published all 30 with no peers',
      () => (a.net.stats['gossip.published_events'] ?? 0) >= 30,
    )
    assert.ok((a.net.stats['gossip.published_no_peers'] ?? 0) >= 1)
    assert.equal(a.net.stats['gossip.published'] ?? 0, 0)
    const b = await startNode({ bootstrap: [a.addr()] }, cleanup)
    await waitFor('b pulled all 30', () => written.every((e) => b.api.has(e.digest)))
    assert.equal(b.api.log.length, 30)
  })

  it('a node restarted with its data directory redials known peers and pulls only what it missed', async () => {
    const a = await startNode({}, cleanup)
    const seedB = newSeed()
    const dirB = await mkdtemp(join(tmpdir(), 'gkm-net-b-'))
    dirs.push(dirB)
    const first: SignedEvent[] = []
    for (let i = 0; i < 25; i++)
      first.push(
        await a.api.write('graph_update', `g${i}`, { op: 'add_edge', from: `n${i}`, to: 'm', label: 'l' }),
      )
    const stopB: Array<() => Promise<void>> = []
    let b = await startNode({ seed: seedB, dataDir: dirB, bootstrap: [a.addr()] }, stopB)
    await waitFor('b caught up the first 25', () => first.every((e) => b.api.has(e.digest)))
    await waitFor(
      'b saved a cursor for a',
      () => b.net.peers().find((p) => p.peerId === a.net.peerId)?.lastSeq === 25,
    )
    await runCleanup(stopB)
    const book = JSON.parse(await readFile(join(dirB, 'mesh-peers.json'), 'utf8'))
    assert.equal(book.peers[a.net.peerId].cursor, 's.25')
    assert.ok(book.peers[a.net.peerId].addrs.length >= 1)

    const missed: SignedEvent[] = []
    for (let i = 0; i < 20; i++)
      missed.push(
        await a.api.write('graph_update', `h${i}`, { op: 'add_edge', from: `x${i}`, to: 'm', label: 'l' }),
      )
    // same seed and data directory, no bootstrap list: the peer file is enough to find a again.
    // The fake store starts empty, so what it holds afterwards is exactly what was pulled.
    b = await startNode({ seed: seedB, dataDir: dirB }, cleanup)
    await waitFor('b redialled a and pulled the 20 it missed', () => missed.every((e) => b.api.has(e.digest)))
    await b.net.catchUpIdle()
    assert.equal(b.api.log.length, 20, 'only events after the saved cursor were pulled')
    assert.ok(first.every((e) => !b.api.has(e.digest)))
  })

  it('bootstrap peers that are down at start are redialled with backoff until they come up', async () => {
    const seedA = newSeed()
    const stopA: Array<() => Promise<void>> = []
    const a0 = await startNode({ seed: seedA }, stopA)
    const addr = a0.addr()
    const port = Number(/\/tcp\/(\d+)\//.exec(addr)?.[1])
    await runCleanup(stopA)

    const b = await startNode({ bootstrap: [addr] }, cleanup)
    await waitFor(
      'b failed to dial the bootstrap peer at least once',
      () => (b.net.stats['dial.failed'] ?? 0) >= 1,
    )
    const a = await startNode({ seed: seedA, listen: [`/ip4/127.0.0.1/tcp/${port}`] }, cleanup)
    await waitFor(
      'b connects once a is up',
      () => b.net.peers().some((p) => p.peerId === a.net.peerId && p.connected),
      20_000,
    )
  })
})
