/**
 * Reconciliation between real nodes (libp2p on 127.0.0.1, LevelDB, mDNS off) with gossip OFF:
 * whatever each side wrote while apart, reconciliation alone brings both to the union — also
 * with 10 KB events under the frame floor, and both ways in one session; a second session finds
 * nothing missing and records "in sync as of"; a peer that withholds what it offers is detected.
 */

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { OWN_HEAD_EVERY } from '../../src/core/log-book.ts'
import type { GkmNetwork } from '../../src/net/index.ts'
import { makeEvent, testSigner } from '../helpers/events.ts'
import {
  converged,
  emptyMesh,
  getJson,
  type MeshNode,
  postJson,
  summaries,
  waitFor,
} from '../helpers/mesh.ts'

const values = { mesh: { enabled: true, reconcileIntervalMs: 0, gossip: false } }

function writes(prefix: string, n: number, bytes = 0): unknown[] {
  const pad = bytes > 0 ? 'x'.repeat(bytes) : undefined
  return Array.from({ length: n }, (_, i) => ({
    event_type: 'persona_update',
    target_id: `${prefix}-${i % 50}`,
    payload: { op: 'set', fields: { [`f${i}`]: pad ?? i } },
  }))
}

async function pushAll(node: MeshNode, events: unknown[], chunk = 200): Promise<void> {
  for (let i = 0; i < events.length; i += chunk) await node.push(events.slice(i, i + chunk))
}

const net = (n: MeshNode) => n.node.network as GkmNetwork

describe('reconciliation with gossip off', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('two nodes that wrote apart converge to the union by reconciliation alone, both ways', async () => {
    const a = await mesh.create({ values })
    const b = await mesh.create({ values })
    await a.start()
    await b.start()
    await pushAll(a, writes('a', 600))
    await pushAll(b, writes('b', 400))
    // 10 KB events: several per frame, many frames (the frame floor is 70 KB).
    await pushAll(a, writes('big-a', 60, 10_000), 20)
    b.configure({ bootstrap: [a.addr()], values })
    await b.stop()
    await b.start()
    await waitFor(
      'both hold the union',
      () => converged([a, b], 1_060),
      30_000,
      () => summaries([a, b]),
    )

    // A second session (on demand) finds nothing missing and records the state hashes.
    const [report] = await net(b).reconcile(a.peerId)
    assert.equal(report.need, 0)
    assert.equal(report.have, 0)
    assert.equal(report.inSync, true)
    assert.equal(report.rounds, 1, 'identical logs: one round trip of summaries, no range phase')
    assert.equal(report.logs?.consistent, true)
    assert.equal(report.localStateHash, report.peerStateHash)
    const peers = (await getJson(`${b.url}/peers`)).body
    const entry = (peers.peers ?? peers).find((p: { peerId: string }) => p.peerId === a.peerId)
    assert.ok(entry?.inSyncAsOf, `peer entry says in sync: ${JSON.stringify(entry)}`)
  })

  it('a fresh node verifies the ranges it fetches by signed heads, not one signature per event', async () => {
    const [a] = mesh.nodes
    const c = await mesh.create({ values })
    await c.start()
    const total = (await a.status()).events
    await net(c).dial(a.addr())
    // The session on connect fetches everything.
    await waitFor('c holds all', async () => (await c.status()).events === total, 20_000)
    // a's own log is covered by its signed heads; what a relays of b's log it verified itself
    // and kept the head of, so that is covered too. An author signs its head once its log is
    // OWN_HEAD_EVERY positions past the last one, so each of the two logs may end in fewer than
    // that many events past its newest head, verified by their own signatures.
    const byHead = net(c).stats['reconcile.events_by_head'] ?? 0
    assert.ok(byHead >= total - 2 * (OWN_HEAD_EVERY - 1), JSON.stringify(net(c).stats))
    assert.ok(byHead >= total * 0.9, JSON.stringify(net(c).stats))
    assert.equal(net(c).stats['reconcile.bad_heads'] ?? 0, 0)
    const [again] = await net(c).reconcile(a.peerId)
    assert.equal(again.logs?.consistent, true)
    assert.equal(again.inSync, true)
    await c.stop()
  })

  it('an event written while connected (gossip off) arrives by the next session', async () => {
    const [a, b] = mesh.nodes
    await a.push(writes('late', 1))
    const [r] = await net(b).reconcile(a.peerId)
    assert.equal(r.need, 1)
    assert.equal(r.accepted, 1)
    assert.ok(await converged([a, b]))
  })

  it('a difference of several fetches (pipelined) arrives whole in one session, none withheld or forged', async () => {
    const [a, b] = mesh.nodes
    // 4,500 missing events: 5 fetch requests of at most 1,000, more than the pipeline's 4.
    await pushAll(a, writes('many', 4_500), 500)
    const [r] = await net(b).reconcile(a.peerId)
    assert.equal(r.need, 4_500)
    assert.equal(r.accepted, 4_500)
    assert.equal(r.withheld, 0)
    assert.equal(r.forged, 0)
    assert.equal(r.truncated, false)
    assert.ok(await converged([a, b], 1_060 + 1 + 4_500))
  })
})

describe('reconciliation surface and misbehaving peers', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('POST /sync/reconcile runs a session; /status says in sync with the peer as of when', async () => {
    const a = await mesh.create({ values })
    await a.start()
    const b = await mesh.create({ values, bootstrap: [a.addr()] })
    await b.start()
    await pushAll(a, writes('s', 30))
    const res = await postJson(`${b.url}/sync/reconcile`, { peer: a.peerId })
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.sessions.length, 1)
    assert.ok(res.body.sessions[0].need >= 0)
    await waitFor(
      'converged',
      () => converged([a, b], 30),
      20_000,
      () => summaries([a, b]),
    )
    const again = await postJson(`${b.url}/sync/reconcile`, {})
    assert.equal(again.body.sessions[0].inSync, true)
    const status = (await getJson(`${b.url}/status`)).body
    const entry = status.in_sync.find((x: { peer: string }) => x.peer === a.peerId)
    assert.ok(entry !== undefined, JSON.stringify(status.in_sync))
    assert.equal(entry.state_hash, status.state_hash)
    assert.equal(entry.peer_state_hash, status.state_hash)
    assert.ok(Date.parse(entry.as_of) > 0)

    const bad = await postJson(`${b.url}/sync/reconcile`, { peer: 'not a peer id' })
    assert.equal(bad.status, 400)
  })

  it('a peer that offers events and withholds them is detected, struck and cut off', async () => {
    const [a, b] = mesh.nodes
    // a's index claims an event its store does not hold: every session offers it, no fetch gets it.
    const hlc = new Uint8Array(8).fill(0x7f)
    const digest = new Uint8Array(32).fill(0xab)
    const fake = new Uint8Array(40)
    fake.set(hlc, 0)
    fake.set(digest, 8)
    a.node.eventSet.index('persona_update')?.insert(fake)
    // The lie is in a's range index: b compares ranges only (its logs agree with a's).
    b.node.eventSet.logs = undefined
    const first = await net(b).reconcile(a.peerId)
    assert.equal(first[0].withheld, 1)
    assert.equal(first[0].inSync, false)
    await net(b).reconcile(a.peerId)
    await net(b)
      .reconcile(a.peerId)
      .catch(() => {})
    await waitFor(
      'b cut a off',
      () => (net(b).stats['reconcile.cut_off'] ?? 0) >= 1,
      10_000,
      () => net(b).stats,
    )
    await waitFor(
      'and hung up',
      () =>
        !net(b)
          .peers()
          .some((p) => p.peerId === a.peerId && p.connected),
      10_000,
    )
    await assert.rejects(net(b).reconcile(a.peerId), /refused until/)
  })
})

describe('a peer whose side of a session fails', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('is not struck (an early end is no proof of misbehaviour), and the session is retried until it converges', async () => {
    const a = await mesh.create({ values })
    await a.start()
    await pushAll(a, writes('fail', 20))
    // a's log reads fail for a while (a store fault, a restart): its side of every session ends
    // early, more times than the strikes that would cut it off.
    const store = a.node.eventSet.logs!
    const reads = new Set(['listLogs', 'getLogRecords', 'getLogHeads', 'readLogRange', 'getLogPositions'])
    let failing = 4
    a.node.eventSet.logs = new Proxy(store, {
      get(target, key) {
        const v = Reflect.get(target, key)
        if (typeof v !== 'function') return v
        if (!reads.has(String(key))) return v.bind(target)
        return async (...args: unknown[]) => {
          if (failing > 0) {
            failing--
            throw new Error('a log read failed (test)')
          }
          return v.apply(target, args)
        }
      },
    })
    const b = await mesh.create({ values })
    await b.start()
    await net(b).dial(a.addr())
    for (let i = 0; i < 3; i++)
      await net(b)
        .reconcile(a.peerId)
        .catch(() => {})
    // No interval: only the retries of the failed sessions bring the events.
    await waitFor(
      'b holds all, by retries',
      async () => (await b.status()).events === 20,
      30_000,
      async () => ({ failing, b: net(b).stats, a: net(a).stats }),
    )
    assert.equal(failing, 0, 'the failures happened')
    assert.equal(net(b).stats['reconcile.cut_off'] ?? 0, 0, JSON.stringify(net(b).stats))
    assert.equal(net(b).stats['reconcile.strikes'] ?? 0, 0, JSON.stringify(net(b).stats))
    assert.ok(
      net(b)
        .peers()
        .some((p) => p.peerId === a.peerId && p.connected),
    )
  })
})

describe('a connection dropped in the middle of a session', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('is no strike against the peer, however often it happens', async () => {
    const a = await mesh.create({ values })
    await a.start()
    await pushAll(a, writes('drop', 40))
    // a's range reads (answering b's fetch, or pushing to b in a's own session: whichever side
    // starts) wait until the test has dropped the connection under them.
    const store = a.node.eventSet.logs!
    const readRange = store.readLogRange.bind(store)
    let hold: Promise<void> | undefined
    let entered = 0
    store.readLogRange = ((...args: Parameters<typeof readRange>) => {
      entered++
      return (hold ?? Promise.resolve()).then(() => readRange(...args))
    }) as typeof readRange
    const b = await mesh.create({ values })
    await b.start()
    const libp2p = (n: MeshNode) =>
      (n.node.network as unknown as { libp2p: { peerId: unknown; hangUp(p: unknown): Promise<void> } }).libp2p
    for (let i = 0; i < 4; i++) {
      let release = () => {}
      hold = new Promise<void>((r) => {
        release = r
      })
      const before = entered
      await waitFor(
        'b connects to a again',
        () =>
          net(b)
            .dial(a.addr())
            .then(
              () => true,
              () => false,
            ),
        10_000,
        () => ({ a: net(a).stats, b: net(b).stats }),
      )
      const session = net(b)
        .reconcile(a.peerId)
        .catch(() => {})
      await waitFor('a session is reading a range', () => entered > before, 10_000)
      await libp2p(a).hangUp(libp2p(b).peerId)
      release()
      await session
    }
    for (const n of [a, b]) {
      assert.equal(net(n).stats['reconcile.strikes'] ?? 0, 0, JSON.stringify(net(n).stats))
      assert.equal(net(n).stats['reconcile.cut_off'] ?? 0, 0, JSON.stringify(net(n).stats))
    }
    hold = undefined
    await waitFor(
      'b holds all',
      async () => {
        await net(b)
          .dial(a.addr())
          .catch(() => {})
        return (await b.status()).events === 40
      },
      20_000,
    )
  })
})

describe('a range phase with a difference of 150,000 ids', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('ends normally (the ids were spread as call arguments and overflowed the stack)', async () => {
    const a = await mesh.create({ values })
    await a.start()
    const b = await mesh.create({ values })
    await b.start()
    // b's own index holds 150,000 ids a lacks: b's range phase finds them all on its side (what
    // it would push; the store holds none of them, so nothing goes).
    const idx = b.node.eventSet.index('persona_update')!
    for (let i = 0; i < 150_000; i++) {
      const id = new Uint8Array(40)
      new DataView(id.buffer).setUint32(4, i)
      id.fill(0xcd, 8)
      new DataView(id.buffer).setUint32(36, i)
      idx.insert(id)
    }
    b.node.eventSet.logs = undefined
    await net(b).dial(a.addr())
    const [r] = await net(b).reconcile(a.peerId)
    assert.ok(r.have >= 130_000, JSON.stringify({ have: r.have, truncated: r.truncated }))
    assert.equal(r.pushedAccepted, 0)
  })
})

describe('a peer that forges', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('events served that were not asked for (or do not hash to the digest) are counted as forged and not stored', async () => {
    const a = await mesh.create({ values })
    await a.start()
    await pushAll(a, writes('forge', 5))
    const b = await mesh.create({
      values: { mesh: { enabled: true, reconcileIntervalMs: 0, gossip: false } },
    })
    await b.start()
    // a answers every fetch with a different event of its own: bytes that do not hash to the
    // digest asked for.
    const [decoy] = (await a.node.api.pull({ limit: 1 }, { kind: 'local', id: 'test' })).events
    const set = a.node.eventSet
    set.getEvents = async (digests) => digests.map(() => decoy)
    // The forgery is in a's answers to digest fetches: b compares ranges only.
    b.node.eventSet.logs = undefined
    await net(b).dial(a.addr())
    // The session on connect may be a's (it then pushes b the decoy five times: one is new); then
    // b's own session asks for the 4 others and gets decoys for each.
    const [r] = await net(b).reconcile(a.peerId)
    assert.ok(r.need >= 4, JSON.stringify(r))
    assert.ok(r.forged >= 1, JSON.stringify(r))
    assert.equal(r.withheld, r.need - r.accepted, JSON.stringify(r))
    assert.ok(r.accepted <= 1, JSON.stringify(r))
    assert.ok((await b.status()).events <= 1, 'nothing forged was stored under the wrong digest')
  })
})

describe('a peer that serves a head that does not verify', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('is counted, and the range it covers is verified one signature per event instead', async () => {
    const a = await mesh.create({ values })
    await a.start()
    await pushAll(a, writes('head', 30))
    // a serves its heads with a root flipped: the events do not hash to it.
    const store = a.node.eventSet.logs!
    const real = store.getLogRecords.bind(store)
    store.getLogRecords = async (logs) =>
      (await real(logs)).map((r) =>
        r?.head === undefined
          ? r
          : {
              ...r,
              head: { ...r.head, root: `${r.head.root[0] === '0' ? '1' : '0'}${r.head.root.slice(1)}` },
            },
      )
    store.getLogHeads = async () => []
    const b = await mesh.create({ values })
    await b.start()
    await net(b).dial(a.addr())
    await waitFor('b holds all', async () => (await b.status()).events === 30, 20_000)
    assert.ok((net(b).stats['reconcile.bad_heads'] ?? 0) >= 1, JSON.stringify(net(b).stats))
    assert.equal(
      net(b).stats['reconcile.events_by_head'] ?? 0,
      0,
      'every event had its own signature checked',
    )
  })
})

describe('relay of what reconciliation brought', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('A - B - C in a line, gossip off, no periodic sessions: what B fetches from A reaches C', async () => {
    // A line by construction: A and C keep no connection target, so C does not dial the A it
    // learns from B by peer exchange (the redialer dials a learned peer at once).
    const ends = { mesh: { ...values.mesh, targetConnections: 0 } }
    const a = await mesh.create({ values: ends })
    await a.start()
    const b = await mesh.create({ values, bootstrap: [a.addr()] })
    await b.start()
    const c = await mesh.create({ values: ends, bootstrap: [b.addr()] })
    await c.start()
    await waitFor(
      'B connected to A and C',
      () =>
        net(b)
          .peers()
          .filter((p) => p.connected).length >= 2,
      20_000,
    )
    assert.ok(
      !net(c)
        .peers()
        .some((p) => p.peerId === a.peerId && p.connected),
      'C is not connected to A',
    )
    await pushAll(a, writes('line', 300))
    await net(b).reconcile(a.peerId)
    await waitFor(
      'C holds what B learned from A',
      () => converged([a, b, c], 300),
      20_000,
      () => summaries([a, b, c]),
    )
    assert.ok((net(b).stats['reconcile.relay_sessions'] ?? 0) >= 1, JSON.stringify(net(b).stats))
  })
})

describe('parallel sessions', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('a node reconciling with two peers that hold the same events at once fetches each event once', async () => {
    const a = await mesh.create({ values })
    await a.start()
    const b = await mesh.create({ values, bootstrap: [a.addr()] })
    await b.start()
    await pushAll(a, writes('both', 400))
    await net(b).reconcile(a.peerId)
    await waitFor(
      'b holds what a wrote',
      () => converged([a, b], 400),
      20_000,
      () => summaries([a, b]),
    )
    const c = await mesh.create({
      values: { mesh: { enabled: true, reconcileIntervalMs: 0, gossip: false, targetConnections: 0 } },
    })
    await c.start()
    await net(c).dial(a.addr())
    await net(c).dial(b.addr())
    // Sessions on connect may already have run (started by a or b); c's own, with both at once:
    await net(c).reconcile()
    await waitFor(
      'c holds everything',
      () => converged([a, b, c], 400),
      20_000,
      () => summaries([a, b, c]),
    )
    const fetched = net(c).stats['reconcile.events_fetched'] ?? 0
    const received = net(c).stats['reconcile.events_received'] ?? 0
    assert.ok(
      fetched + received <= 400 + 32,
      `c took ${fetched} fetched + ${received} pushed events for 400: ${JSON.stringify(net(c).stats)}`,
    )
  })
})

describe('many author logs (bucket fingerprints)', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it("a node with 100 authors' logs brings a peer to the union, then agrees in one round trip", async () => {
    const a = await mesh.create({ values })
    const b = await mesh.create({ values })
    await a.start()
    await b.start()
    // 100 authors, 2 events each; b holds all but the newest event of one author.
    const all = Array.from({ length: 100 }, (_, i) => {
      const s = testSigner(100 + i)
      return [0, 1].map(() => makeEvent(s, { target: `many-${i}`, payload: { op: 'set', fields: { i } } }))
    })
    const wire = (es: (typeof all)[number]) => es.map((e) => ({ signed: e.signed, signature: e.signature }))
    const origin = { kind: 'peer' as const, id: 'test' }
    assert.equal((await a.node.api.pushSigned(all.flatMap(wire), origin)).accepted, 200)
    const held = all.flatMap((es, i) => wire(i === 37 ? es.slice(0, 1) : es))
    assert.equal((await b.node.api.pushSigned(held, origin)).accepted, 199)
    await net(b).dial(a.addr())
    await waitFor(
      'both hold the union',
      () => converged([a, b], 200),
      20_000,
      () => summaries([a, b]),
    )
    const [again] = await net(b).reconcile(a.peerId)
    assert.equal(again.logs?.consistent, true, JSON.stringify(again))
    assert.equal(again.rounds, 1, 'identical logs: one round trip of bucket fingerprints')
    assert.equal(again.inSync, true)
  })
})

describe('two branches of one author log (a fork)', () => {
  const mesh = emptyMesh()
  after(() => mesh.close())

  it('nodes holding different events from one position on end holding both branches', async () => {
    const a = await mesh.create({ values })
    const b = await mesh.create({ values })
    await a.start()
    await b.start()
    const s = testSigner(230)
    const ev = (seq: number, branch: string) =>
      makeEvent(s, { seq, target: `fork-${seq}`, payload: { op: 'set', fields: { branch } } })
    const trunk = [0, 1, 2, 3, 4].map((seq) => ev(seq, 'trunk'))
    const left = [...trunk, ...[5, 6, 7, 8, 9].map((seq) => ev(seq, 'left'))]
    const right = [...trunk, ...[5, 6, 7, 8, 9].map((seq) => ev(seq, 'right'))]
    const wire = (es: typeof left) => es.map((e) => ({ signed: e.signed, signature: e.signature }))
    const origin = { kind: 'peer' as const, id: 'test' }
    assert.equal((await a.node.api.pushSigned(wire(left), origin)).accepted, 10)
    assert.equal((await b.node.api.pushSigned(wire(right), origin)).accepted, 10)
    const [r] = await (async () => {
      await net(b).dial(a.addr())
      return net(b).reconcile(a.peerId)
    })()
    await waitFor(
      'both hold both branches',
      () => converged([a, b], 15),
      20_000,
      () => summaries([a, b]),
    )
    assert.equal(r.logs?.consistent, false, JSON.stringify(r))
    // The log phase found the fork point by a Merkle descent (on whichever side initiated).
    const forks = (net(a).stats['reconcile.log_forks'] ?? 0) + (net(b).stats['reconcile.log_forks'] ?? 0)
    assert.ok(forks >= 1, JSON.stringify([net(a).stats, net(b).stats]))
  })
})
