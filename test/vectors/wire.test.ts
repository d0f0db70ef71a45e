/**
 * Byte vectors of every wire message (docs/PROTOCOL.md (mesh protocols)). A codec change that alters the
 * bytes of an existing message breaks compatibility with deployed nodes and fails here: change
 * the protocol version instead (docs/PROTOCOL.md (mesh protocols) "Versions").
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as lp from 'it-length-prefixed'
import * as w from '../../src/wire/index.ts'

const LIMITS: w.WireLimits = {
  eventsMax: 1000,
  signedBytesMax: 70_000,
  digestsMax: 256,
  typesMax: 4,
  gossipEventsMax: 8,
  textBytesMax: 1024,
  valueJsonBytesMax: 65_536,
}

const signed = Uint8Array.from({ length: 16 }, (_, i) => i + 1)
const signature = new Uint8Array(64).fill(0xab)
const digest = new Uint8Array(32).fill(0x11)
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'))
const CONFLICT = 'c'.repeat(64)
const EVENT_HEX = '0a100102030405060708090a0b0c0d0e0f101240' + 'ab'.repeat(64)

interface Vector {
  name: string
  encode: () => Uint8Array
  decode: (b: Uint8Array) => unknown
  reencode: (m: never) => Uint8Array
  hex: string
  check?: (m: never) => void
}

const VECTORS: Vector[] = [
  {
    name: 'GossipMessage{events: 1}',
    encode: () => w.encodeGossipEvent(signed, signature),
    decode: (b) => w.GossipMessage.decode(b),
    reencode: (m: w.GossipMessage) => w.GossipMessage.encode(m),
    hex: '0a54' + EVENT_HEX,
    check: (m: w.GossipMessage) =>
      assert.deepEqual(w.decodeGossipMessage(w.GossipMessage.encode(m), LIMITS), {
        kind: 'events',
        events: [{ signed, signature }],
      }),
  },
  {
    name: 'GossipMessage{announce}',
    encode: () => w.encodeGossipAnnounce(digest, 70_000),
    decode: (b) => w.GossipMessage.decode(b),
    reencode: (m: w.GossipMessage) => w.GossipMessage.encode(m),
    hex: '12260a20' + '11'.repeat(32) + '10f0a204',
    check: (m: w.GossipMessage) => assert.equal(m.announce?.size, 70_000),
  },
  {
    name: 'GossipMessage{events: 2}',
    encode: () =>
      w.encodeGossipEvents([
        { signed, signature },
        { signed, signature },
      ]),
    decode: (b) => w.GossipMessage.decode(b),
    reencode: (m: w.GossipMessage) => w.GossipMessage.encode(m),
    hex: `0a54${EVENT_HEX}0a54${EVENT_HEX}`,
    check: (m: w.GossipMessage) => assert.equal(m.events.length, 2),
  },
  {
    name: 'PushRequest',
    encode: () => w.PushRequest.encode({ events: [{ signed, signature }] }),
    decode: (b) => w.decodePushRequest(b, LIMITS),
    reencode: (m: w.PushRequest) => w.PushRequest.encode(m),
    hex: '0a54' + EVENT_HEX,
  },
  {
    name: 'PushResponse',
    encode: () =>
      w.PushResponse.encode({
        accepted: 1,
        duplicates: 2,
        rejected: [
          { eventId: '00000000-0000-4000-8000-000000000000', error: 'bad_signature', message: 'no' },
        ],
        digests: [digest],
      }),
    decode: (b) => w.decodePushResponse(b, LIMITS),
    reencode: (m: w.PushResponse) => w.PushResponse.encode(m),
    hex:
      '080110021a390a2430303030303030302d303030302d343030302d383030302d303030303030303030303030' +
      '120d6261645f7369676e61747572651a026e6f2220' +
      '11'.repeat(32),
    check: (m: w.PushResponse) => {
      assert.equal(m.duplicates, 2)
      assert.equal(m.rejected[0].error, 'bad_signature')
    },
  },
  {
    name: 'PushResponse{error}',
    encode: () => w.PushResponse.encode({ error: { code: 'rate_limited', message: 'slow down' } }),
    decode: (b) => w.decodePushResponse(b, LIMITS),
    reencode: (m: w.PushResponse) => w.PushResponse.encode(m),
    hex: '2a190a0c726174655f6c696d697465641209736c6f7720646f776e',
  },
  {
    name: 'PullRequest{cursor}',
    encode: () =>
      w.PullRequest.encode({
        cursor: 's.42',
        types: ['persona_update', 'graph_update'],
        limit: 500,
        stream: true,
      }),
    decode: (b) => w.decodePullRequest(b, LIMITS),
    reencode: (m: w.PullRequest) => w.PullRequest.encode(m),
    hex: '1204732e34321a0e706572736f6e615f7570646174651a0c67726170685f75706461746520f4032801',
    check: (m: w.PullRequest) => {
      assert.equal(m.sinceMs, undefined)
      assert.equal(m.stream, true)
    },
  },
  {
    name: 'PullRequest{since_ms}',
    encode: () => w.PullRequest.encode({ sinceMs: 1_767_225_600_000, limit: 10 }),
    decode: (b) => w.decodePullRequest(b, LIMITS),
    reencode: (m: w.PullRequest) => w.PullRequest.encode(m),
    hex: '0880d0eab6b733200a',
    check: (m: w.PullRequest) => assert.equal(m.sinceMs, 1_767_225_600_000),
  },
  {
    name: 'PullRequest{digests}',
    encode: () => w.PullRequest.encode({ digests: [digest] }),
    decode: (b) => w.decodePullRequest(b, LIMITS),
    reencode: (m: w.PullRequest) => w.PullRequest.encode(m),
    hex: '3220' + '11'.repeat(32),
  },
  {
    name: 'PullResponse',
    encode: () =>
      w.PullResponse.encode({
        events: [{ signed, signature }],
        nextCursor: 's.43',
        hasMore: false,
        done: true,
      }),
    decode: (b) => w.decodePullResponse(b, LIMITS),
    reencode: (m: w.PullResponse) => w.PullResponse.encode(m),
    hex: '0a54' + EVENT_HEX + '1204732e34332001',
  },
  {
    name: 'ReconcileFrame{round}',
    encode: () =>
      w.ReconcileFrame.encode({
        type: 'persona_update',
        ranges: [
          {
            upper: Uint8Array.of(1, 2),
            mode: 1,
            fingerprint: new Uint8Array(16).fill(0x22),
            ids: [],
            wanted: [],
          },
          { upper: new Uint8Array(0), mode: 2, fingerprint: new Uint8Array(0), ids: [digest], wanted: [] },
        ],
        stateHash: 'ab',
        frameBytesMax: 4_194_304,
      }),
    decode: (b) =>
      w.decodeReconcileFrame(b, LIMITS, { rangesMax: 8192, idsMax: 32, fetchMax: 1000, logsMax: 800 }),
    reencode: (m: w.ReconcileFrame) => w.ReconcileFrame.encode(m),
    hex:
      '0a0e706572736f6e615f757064617465' +
      '12180a02010210011a10' +
      '22'.repeat(16) +
      '1224100222' +
      '20' +
      '11'.repeat(32) +
      '3a0261624880808002',
  },
  {
    name: 'ReconcileFrame{fetch}',
    encode: () => w.ReconcileFrame.encode({ fetch: [digest] }),
    decode: (b) =>
      w.decodeReconcileFrame(b, LIMITS, { rangesMax: 8192, idsMax: 32, fetchMax: 1000, logsMax: 800 }),
    reencode: (m: w.ReconcileFrame) => w.ReconcileFrame.encode(m),
    hex: `1a20${'11'.repeat(32)}`,
  },
  {
    name: 'ResolveRequest',
    encode: () =>
      w.ResolveRequest.encode({
        conflictId: CONFLICT,
        strategy: 'manual_merge',
        valueJson: '{"a":1}',
        deleted: false,
      }),
    decode: (b) => w.decodeResolveRequest(b, LIMITS),
    reencode: (m: w.ResolveRequest) => w.ResolveRequest.encode(m),
    hex: '0a40' + '63'.repeat(64) + '120c6d616e75616c5f6d657267651a077b2261223a317d',
  },
  {
    name: 'ResolveResponse{event}',
    encode: () =>
      w.ResolveResponse.encode({
        conflictId: CONFLICT,
        strategy: 'prefer_local',
        event: { signed, signature },
      }),
    decode: (b) => w.decodeResolveResponse(b, LIMITS),
    reencode: (m: w.ResolveResponse) => w.ResolveResponse.encode(m),
    hex: '0a40' + '63'.repeat(64) + '120c7072656665725f6c6f63616c1a54' + EVENT_HEX,
  },
  {
    name: 'ResolveResponse{error}',
    encode: () =>
      w.ResolveResponse.encode({
        conflictId: CONFLICT,
        error: { code: 'conflict_not_found', message: 'unknown' },
      }),
    decode: (b) => w.decodeResolveResponse(b, LIMITS),
    reencode: (m: w.ResolveResponse) => w.ResolveResponse.encode(m),
    hex: '0a40' + '63'.repeat(64) + '221d0a12636f6e666c6963745f6e6f745f666f756e641207756e6b6e6f776e',
  },
  {
    name: 'PeersRequest',
    encode: () => w.PeersRequest.encode({ limit: 32 }),
    decode: (b) => w.decodePeersRequest(b),
    reencode: (m: w.PeersRequest) => w.PeersRequest.encode(m),
    hex: '0820',
  },
  {
    name: 'PeersResponse',
    encode: () => w.PeersResponse.encode({ peers: [{ peerId: 'p1', addrs: ['/ip4/127.0.0.1/tcp/7421'] }] }),
    decode: (b) => w.decodePeersResponse(b, { peersMax: 32, addrsMax: 8, textBytesMax: 1024 }),
    reencode: (m: w.PeersResponse) => w.PeersResponse.encode(m),
    // peers[0] = { peer_id "p1", addrs ["/ip4/127.0.0.1/tcp/7421"] }
    hex: '0a1d' + '0a027031' + '1217' + Buffer.from('/ip4/127.0.0.1/tcp/7421').toString('hex'),
  },
]

describe('wire vectors', () => {
  for (const v of VECTORS) {
    it(`${v.name}: encodes to the checked-in bytes and decodes back`, () => {
      assert.equal(hex(v.encode()), v.hex)
      const decoded = v.decode(bytes(v.hex)) as never
      assert.equal(hex(v.reencode(decoded)), v.hex)
      v.check?.(decoded)
    })
  }

  it('frames: uvarint length prefix, as it-length-prefixed (and so lpStream) writes it', () => {
    for (const n of [0, 1, 127, 128, 300, 16_383, 16_384, 4 * 1024 * 1024]) {
      const body = new Uint8Array(n).fill(7)
      const ours = w.encodeFrame(body)
      const theirs = lp.encode.single(body).subarray()
      assert.equal(hex(ours.subarray(0, 8)), hex(theirs.subarray(0, 8)), `prefix for ${n}`)
      assert.equal(ours.byteLength, theirs.byteLength)
    }
    assert.equal(hex(w.encodeFrame(bytes('0880d0eab6b733200a'))), '090880d0eab6b733200a')
    assert.equal(hex(w.encodeFrame(new Uint8Array(300)).subarray(0, 2)), 'ac02')
  })
})
