/**
 * MeshKeeper (peer exchange and the connection target), driven without a network: what a node
 * shares, what it accepts from an answer (members only, valid ids and addresses, never itself),
 * and how many dials it asks for.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { dialableAddrs, MeshKeeper } from '../../../src/net/mesh-keeper.ts'
import { PeerBook } from '../../../src/net/peer-book.ts'
import type { SharedPeer } from '../../../src/net/protocols/peers.ts'
import { NetStats, SILENT_LOGGER } from '../../../src/net/stats.ts'
import { decodePeersResponse } from '../../../src/wire/codec.ts'
import { PeersResponse } from '../../../src/wire/index.ts'

async function newPeerIds(n: number): Promise<PeerId[]> {
  return Promise.all(
    Array.from({ length: n }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))),
  )
}

const addr = (i: number) => `/ip4/127.0.0.1/tcp/${40_000 + i}`

describe('MeshKeeper', () => {
  const dirs: string[] = []
  const books: PeerBook[] = []
  after(async () => {
    // Flush first: a pending debounced save would recreate a removed directory.
    for (const b of books) await b.flush()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  async function keeper(opts: {
    self: PeerId
    members?: Set<string>
    connected: PeerId[]
    answer?: SharedPeer[]
    target: number
  }) {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-keeper-'))
    dirs.push(dir)
    const book = new PeerBook(dir, () => 1_000, SILENT_LOGGER)
    books.push(book)
    const wanted = new Map<string, readonly string[]>()
    const stats = new NetStats()
    const k = new MeshKeeper(
      {
        selfId: opts.self.toString(),
        book,
        stats,
        log: SILENT_LOGGER,
        isMember: (id) => opts.members === undefined || opts.members.has(id),
        connected: () => opts.connected,
        ask: async () => opts.answer ?? [],
        want: (id, addrs) => void wanted.set(id, addrs),
        wanted: (id) => wanted.has(id),
      },
      { targetConnections: opts.target },
    )
    return { k, book, wanted, stats }
  }

  it('shares members it knows, connected first, never the requester or itself', async () => {
    const [self, a, b, c, outsider] = await newPeerIds(5)
    const members = new Set([self, a, b, c].map(String))
    const { k, book } = await keeper({ self, members, connected: [b], target: 8 })
    book.touch(a.toString(), [addr(1)])
    book.touch(b.toString(), [`${addr(2)}/p2p/${b}`, '/ip4/127.0.0.1/tcp/9/p2p-circuit'])
    book.touch(c.toString(), [addr(3)])
    book.touch(outsider.toString(), [addr(4)])
    book.touch(self.toString(), [addr(5)])
    const shared = k.shared(c.toString())
    assert.deepEqual(
      shared.map((p) => p.peerId),
      [b, a].map(String),
    )
    assert.deepEqual(shared[0].addrs, [addr(2)], 'no /p2p suffix, no relay address')
  })

  it('learns members from an answer and asks for dials up to the target, never beyond', async () => {
    const [self, via, ...others] = await newPeerIds(8)
    const outsider = others.pop() as PeerId
    const members = new Set([self, via, ...others].map(String))
    const answer: SharedPeer[] = [
      { peerId: self.toString(), addrs: [addr(0)] },
      { peerId: outsider.toString(), addrs: [addr(9)] },
      { peerId: 'not-a-peer-id', addrs: [addr(8)] },
      { peerId: others[0].toString(), addrs: ['not a multiaddr'] },
      ...others.map((p, i) => ({ peerId: p.toString(), addrs: [addr(10 + i)] })),
    ]
    const { k, book, wanted, stats } = await keeper({ self, members, connected: [via], answer, target: 3 })
    k.exchange(via)
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    assert.equal(book.get(outsider.toString()), undefined, 'a non-member is not remembered')
    assert.equal(book.get(self.toString()), undefined)
    assert.equal(stats.counters['peerx.non_member'], 1)
    assert.equal(stats.counters['peerx.bad_peer_id'], 1)
    for (const p of others) assert.ok(book.get(p.toString()) !== undefined)
    // connected 1 + wanted 2 = target 3
    assert.equal(wanted.size, 2)
    for (const id of wanted.keys()) assert.ok(members.has(id) && id !== via.toString())
    k.fill()
    assert.equal(wanted.size, 2, 'filling again asks for nothing more')
    k.stop()
  })

  it('target 0 turns it off', async () => {
    const [self, via, x] = await newPeerIds(3)
    const { k, wanted, stats } = await keeper({
      self,
      connected: [via],
      answer: [{ peerId: x.toString(), addrs: [addr(1)] }],
      target: 0,
    })
    k.exchange(via)
    k.fill()
    await new Promise((r) => setImmediate(r))
    assert.equal(wanted.size, 0)
    assert.equal(stats.counters['peerx.asked'] ?? 0, 0)
  })

  it('dialableAddrs keeps at most 8 parseable, non-relay addresses', () => {
    const many = Array.from({ length: 20 }, (_, i) => addr(i))
    assert.equal(dialableAddrs(many).length, 8)
    assert.deepEqual(dialableAddrs(['garbage', '/ip4/127.0.0.1/tcp/1/p2p-circuit', addr(1)]), [addr(1)])
  })

  it('a peers answer is bounded while it is decoded', () => {
    const peers = Array.from({ length: 40 }, (_, i) => ({ peerId: `p${i}`, addrs: [addr(i)] }))
    const bytes = PeersResponse.encode({ peers })
    assert.throws(
      () => decodePeersResponse(bytes, { peersMax: 32, addrsMax: 8, textBytesMax: 1024 }),
      (err: Error) => err.name === 'WireLimitError',
    )
    const addrs = PeersResponse.encode({
      peers: [{ peerId: 'p', addrs: Array.from({ length: 9 }, (_, i) => addr(i)) }],
    })
    assert.throws(
      () => decodePeersResponse(addrs, { peersMax: 32, addrsMax: 8, textBytesMax: 1024 }),
      (err: Error) => err.name === 'WireLimitError',
    )
    assert.equal(
      decodePeersResponse(PeersResponse.encode({ peers: peers.slice(0, 3) }), {
        peersMax: 32,
        addrsMax: 8,
        textBytesMax: 1024,
      }).peers.length,
      3,
    )
  })
})
