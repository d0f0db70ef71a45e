import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { eventFromWire, signEvent } from '../../../src/core/event.ts'
import { digestOf } from '../../../src/core/event-codec.ts'
import type { StoredEvent } from '../../../src/core/records.ts'
import type { JsonObject } from '../../../src/core/types.ts'
import type { PullFrame } from '../../../src/net/index.ts'
import {
  FRAME_BYTES_MIN,
  PROTOCOL_PULL,
  PROTOCOL_PUSH,
  type RemoteRefusedError,
} from '../../../src/net/index.ts'
import { answerBytesMax } from '../../../src/net/protocols/pull.ts'
import { encodedEventBytes, PushRequest } from '../../../src/wire/index.ts'
import { nextLogPosition } from '../../helpers/log-position.ts'
import { runCleanup, startNode, TEST_LIMITS, type TestNode, waitFor } from './helpers.ts'

function signOnly(node: TestNode, fields: JsonObject) {
  return signEvent(
    {
      eventId: randomUUID(),
      type: 'persona_update',
      targetId: 'pushed',
      payload: { op: 'set', fields },
      hlc: { wallMs: Date.now(), counter: 0 },
      parents: [],
      ...nextLogPosition(node.api.signer),
    },
    node.api.signer,
  )
}

async function collect(frames: AsyncGenerator<PullFrame>): Promise<PullFrame[]> {
  const out: PullFrame[] = []
  for await (const f of frames) out.push(f)
  return out
}

describe('protocols: push, pull, resolve', () => {
  const cleanup: Array<() => Promise<void>> = []
  let a: TestNode
  let b: TestNode
  const written: StoredEvent[] = []

  before(async () => {
    // a splits pages into frames of the smallest allowed size; members list, so resolve is allowed
    const seeds = [crypto.getRandomValues(new Uint8Array(32)), crypto.getRandomValues(new Uint8Array(32))]
    const { signerFromSeed } = await import('../../../src/util/crypto.ts')
    const members = seeds.map((s) => Buffer.from(signerFromSeed(s).publicKey).toString('hex'))
    a = await startNode(
      { seed: seeds[0], members, limits: { ...TEST_LIMITS, frameBytesMax: FRAME_BYTES_MIN } },
      cleanup,
    )
    b = await startNode({ seed: seeds[1], members }, cleanup)
    for (let i = 0; i < 1200; i++) {
      const ev = await a.api.write(
        i % 2 === 0 ? 'persona_update' : 'graph_update',
        `t${i}`,
        i % 2 === 0
          ? { op: 'set', fields: { n: i, pad: 'p'.repeat(100) } }
          : { op: 'add_edge', from: `n${i}`, to: 'x', label: 'knows' },
      )
      written.push(ev)
    }
    await b.net.dial(a.addr())
    await b.net.catchUpIdle()
  })
  after(() => runCleanup(cleanup))

  it('pull (batch): a page is cut to what fits one answer frame (a reads frames of FRAME_BYTES_MIN), with the exact cursor of the prefix', async () => {
    const frames = await collect(b.net.pull(a.net.peerId, { cursor: 's.0', limit: 500 }))
    const events = frames.flatMap((f) => f.events)
    const bytes = events.reduce(
      (n, e) => n + encodedEventBytes(e.signed.byteLength, e.signature.byteLength),
      0,
    )
    assert.ok(events.length > 0 && events.length < 500, `got ${events.length} events`)
    assert.ok(bytes <= answerBytesMax(FRAME_BYTES_MIN), `answer carries ${bytes} bytes of events`)
    assert.deepEqual(
      events.map((e) => digestOf(e.signed)),
      written.slice(0, events.length).map((e) => digestOf(e.signed)),
    )
    const lastFrame = frames[frames.length - 1]
    assert.equal(lastFrame.nextCursor, `s.${events.length}`)
    assert.equal(lastFrame.hasMore, true)
    assert.equal(lastFrame.done, true)
  })

  it('pull (streaming): answers bounded by bytes, asked again from the cursor until caught up, in arrival order, filtered by type', async () => {
    const events: StoredEvent[] = []
    let cursor: string | undefined
    let answers = 0
    for (let more = true; more && answers < 100; answers++) {
      const frames = await collect(
        b.net.pull(a.net.peerId, { cursor, types: ['graph_update'], limit: 200, stream: true }),
      )
      const got = frames.flatMap((f) => f.events)
      const bytes = got.reduce(
        (n, e) => n + encodedEventBytes(e.signed.byteLength, e.signature.byteLength),
        0,
      )
      assert.ok(bytes <= answerBytesMax(FRAME_BYTES_MIN), `answer carries ${bytes} bytes of events`)
      events.push(...got)
      const last = frames[frames.length - 1]
      cursor = frames.findLast((f) => f.nextCursor !== undefined)?.nextCursor ?? cursor
      more = last.hasMore
    }
    assert.ok(answers > 1, 'the 600 events did not fit one answer of a 70 KB frame')
    assert.equal(events.length, 600)
    const want = written.filter((_, i) => i % 2 === 1).map((e) => digestOf(e.signed))
    assert.deepEqual(
      events.map((e) => digestOf(e.signed)),
      want,
    )
  })

  it('pull (time mode): since_ms', async () => {
    const cut = eventFromWire(written[1000].signed, written[1000].signature, {
      nowMs: Date.now(),
      driftMaxMs: 60_000,
    }).hlc.wallMs
    const frames = await collect(b.net.pull(a.net.peerId, { sinceMs: cut, limit: 5000 }))
    const n = frames.flatMap((f) => f.events).length
    assert.ok(n >= 200 && n < 1200, `got ${n}`)
  })

  it('pull refuses unknown types and foreign cursors with a named code', async () => {
    await assert.rejects(
      collect(b.net.pull(a.net.peerId, { types: ['nope' as never] })),
      (err: RemoteRefusedError) => err.remoteCode === 'invalid_request',
    )
    await assert.rejects(
      collect(b.net.pull(a.net.peerId, { cursor: 'zzz' })),
      (err: RemoteRefusedError) => err.remoteCode === 'invalid_request',
    )
  })

  it('fetch mode returns only events the server still holds', async () => {
    const frames = await collect(b.net.pull(a.net.peerId, { digests: [new Uint8Array(32)] }))
    assert.deepEqual(
      frames.flatMap((f) => f.events),
      [],
    )
  })

  it('catch-up on connect pulled everything, and the cursor is kept per peer', async () => {
    assert.equal(b.api.log.length, 1200)
    assert.equal(b.net.peers().find((p) => p.peerId === a.net.peerId)?.lastSeq, 1200)
  })

  it('push: accepted, duplicates and rejected like the HTTP push', async () => {
    // signed by b but not stored (a local write would reach a by gossip first)
    const fresh = signOnly(b, { x: 1 })
    const other = signOnly(b, { x: 2 })
    const bad = { signed: other.signed, signature: new Uint8Array(64) }
    const dup = written[0]
    const r = await b.net.push(a.net.peerId, [fresh, dup, bad])
    assert.equal(r.accepted, 1)
    assert.equal(r.duplicates, 1)
    assert.deepEqual(
      r.rejected.map((x) => x.error),
      ['bad_signature'],
    )
    assert.deepEqual(r.digests, [digestOf(fresh.signed)])
    assert.equal(a.api.has(digestOf(other.signed)), false)
    assert.equal(a.api.origins[a.api.byDigest.get(digestOf(fresh.signed))! - 1].id, b.net.peerId)
  })

  it('push of many events is split into several requests on one stream', async () => {
    const many = written.slice(0, 1100)
    const r = await b.net.push(a.net.peerId, many)
    assert.equal(r.duplicates, 1100)
  })

  it('resolve: the server signs and stores a resolution, the answer carries it, and it is gossiped', async () => {
    const r = await b.net.resolve(a.net.peerId, {
      conflictId: 'c1',
      resolutionStrategy: 'manual_merge',
      value: { merged: true },
    })
    assert.equal(r.conflict_id, 'c1')
    assert.equal(r.event.author, a.publicKey)
    await waitFor('b receives the resolution event', () =>
      b.api.log.some((e) => Buffer.from(e.event.signature).toString('hex') === r.event.signature),
    )
    await assert.rejects(
      b.net.resolve(a.net.peerId, { conflictId: 'nope', resolutionStrategy: 'prefer_local' }),
      (err: RemoteRefusedError) => err.remoteCode === 'conflict_not_found',
    )
    await assert.rejects(
      b.net.resolve(a.net.peerId, { conflictId: 'c1', resolutionStrategy: 'bogus' as never }),
      (err: RemoteRefusedError) => err.remoteCode === 'invalid_resolution',
    )
  })

  it('bad frames: an oversized length prefix and garbage protobuf abort the stream and are counted', async () => {
    const libp2p = b.net.libp2p!
    const peer = peerIdFromString(a.net.peerId)
    const huge = await libp2p.dialProtocol(peer, PROTOCOL_PUSH)
    huge.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]))
    await waitFor('a refuses the oversized frame', () => (a.net.stats['errors.WireLimitError'] ?? 0) >= 1)
    const garbage = await libp2p.dialProtocol(peer, PROTOCOL_PULL)
    const lp = lpStream(garbage)
    // cursor (field 2) claims 16 bytes, none follow
    await lp.write(new Uint8Array([0x12, 0x10]))
    await waitFor('a refuses the garbage request', () => (a.net.stats['errors.WireDecodeError'] ?? 0) >= 1)
    const tooMany = await libp2p.dialProtocol(peer, PROTOCOL_PUSH)
    await lpStream(tooMany, { maxDataLength: 64 << 20 }).write(
      PushRequest.encode({
        events: Array.from({ length: 1001 }, () => ({
          signed: new Uint8Array(1),
          signature: new Uint8Array(64),
        })),
      }),
    )
    await waitFor('a refuses 1001 events in one push', () => (a.net.stats['errors.WireLimitError'] ?? 0) >= 2)
    // endless varint continuation bytes: refused after 5 bytes, not buffered until the timeout
    const endless = await libp2p.dialProtocol(peer, PROTOCOL_PUSH)
    endless.send(new Uint8Array(64).fill(0xff))
    await waitFor(
      'a refuses an endless length prefix',
      () => (a.net.stats['errors.WireDecodeError'] ?? 0) >= 2,
    )
  })
})

describe('protocols: per-peer stream-open rate limit', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(() => runCleanup(cleanup))

  it('opening protocol streams faster than the limit gets them reset', async () => {
    const a = await startNode({ limits: { ...TEST_LIMITS, streamOpensPerPeerPerSecond: 3 } }, cleanup)
    const b = await startNode({}, cleanup)
    await b.net.dial(a.addr())
    await b.net.catchUpIdle()
    const ev = await b.api.write('persona_update', 'r', { op: 'set', fields: { r: 1 } })
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => b.net.push(a.net.peerId, [ev])))
    const ok = results.filter((r) => r.status === 'fulfilled').length
    const failed = results.length - ok
    assert.ok(ok >= 1, 'some pushes got through')
    assert.ok(failed >= 1, 'some pushes were refused')
    assert.ok((a.net.stats['streams.rate_limited'] ?? 0) >= failed)
  })
})
