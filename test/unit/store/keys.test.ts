import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeSigned } from '../../../src/core/event-codec.ts'
import { hlcKey } from '../../../src/core/hlc.ts'
import { EVENT_TYPE_CODE } from '../../../src/core/types.ts'
import { readEventHeader } from '../../../src/store/event-header.ts'
import * as K from '../../../src/store/keys.ts'
import { makeEvent } from '../../compliance/event-fixtures.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const cmp = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b)

describe('store keys', () => {
  it('seq keys sort numerically, round-trip, and cover 2^53', () => {
    const seqs = [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER]
    const keys = seqs.map(K.seqKey)
    for (let i = 1; i < keys.length; i++)
      assert.ok(cmp(keys[i - 1], keys[i]) < 0, `seq ${seqs[i - 1]} < ${seqs[i]}`)
    for (const [i, k] of keys.entries()) assert.equal(K.readSeq(k), seqs[i])
    assert.equal(K.readSeq(new Uint8Array(7)), undefined)
  })

  it('HLC bytes of a wall time sort like hlcKey and start its range', () => {
    const hlcs = [
      { wallMs: 0, counter: 0 },
      { wallMs: 1, counter: 65_535 },
      { wallMs: 65_536, counter: 0 },
      { wallMs: 2 ** 48 - 1, counter: 7 },
    ]
    for (const h of hlcs) {
      const fromKey = K.hlcBytesFromKey(hlcKey(h))!
      assert.equal(hex(fromKey), hlcKey(h))
      if (h.counter === 0) assert.equal(hex(K.hlcBytesAtMs(h.wallMs)), hlcKey(h))
    }
    assert.equal(K.hlcBytesFromKey('ABCDEF0123456789'), undefined)
    assert.equal(K.hlcBytesFromKey('123'), undefined)
  })

  it("no target prefix is a prefix of another target's index keys", () => {
    const targets = ['a', 'ab', 'a\u0000', 'a!', 'a/b', 'b', '🙂', 'x'.repeat(255)].map((t) =>
      Buffer.from(t, 'utf8'),
    )
    const hlc = new Uint8Array(8).fill(0xff)
    const digest = new Uint8Array(32).fill(0xff)
    for (const t of targets) {
      const range = K.prefixRange(K.targetPrefix(2, t))
      for (const u of targets) {
        for (const fill of [0x00, 0xff]) {
          const key = K.targetIndexKey(2, u, hlc.fill(fill), digest.fill(fill))
          const inside = cmp(key, range.gte) >= 0 && (range.lt === undefined || cmp(key, range.lt) < 0)
          assert.equal(inside, Buffer.compare(t, u) === 0, `${t} vs ${u}`)
        }
      }
    }
  })

  it('prefixRange handles trailing 0xff bytes', () => {
    assert.equal(hex(K.prefixRange(Uint8Array.of(1, 0xff, 0xff)).lt!), '02')
    assert.equal(K.prefixRange(Uint8Array.of(0xff)).lt, undefined)
    assert.equal(hex(K.prefixRange(Uint8Array.of(3)).lt!), '04')
  })

  it('digest and event id keys accept only their canonical text', () => {
    assert.equal(K.digestKey('A'.repeat(64)), undefined)
    assert.equal(K.digestKey('a'.repeat(63)), undefined)
    assert.equal(K.digestKey('a'.repeat(64))?.byteLength, 32)
    assert.equal(
      hex(K.eventIdBytes('0000000A-0000-4000-8000-00000000000B')!),
      '0000000a00004000800000000000000b',
    )
    assert.equal(K.eventIdBytes('not-a-uuid'), undefined)
  })
})

describe('event header reader', () => {
  it('agrees with decodeSigned', () => {
    for (const [i, type] of (
      ['vector_update', 'persona_update', 'document_update', 'graph_update'] as const
    ).entries()) {
      const e = makeEvent({
        n: i + 1,
        type,
        target: `t/ü!${i}`,
        wallMs: 1_700_000_000_000 + i * 70_001,
        counter: i * 300,
      })
      const h = readEventHeader(e.signed)!
      const f = decodeSigned(e.signed)
      assert.equal(h.typeCode, EVENT_TYPE_CODE[f.type])
      assert.equal(h.type, f.type)
      assert.equal(hex(h.hlc), hlcKey(f.hlc))
      assert.equal(hex(h.author), f.author)
      assert.equal(hex(h.eventId), f.eventId.replaceAll('-', ''))
      assert.equal(Buffer.from(h.target).toString('utf8'), f.targetId)
    }
  })

  it('refuses bytes that cannot be an event', () => {
    const e = makeEvent({ n: 1 })
    assert.equal(readEventHeader(e.signed.subarray(0, 40)), undefined)
    const badMagic = Uint8Array.from(e.signed)
    badMagic[0] = 0
    assert.equal(readEventHeader(badMagic), undefined)
    const badType = Uint8Array.from(e.signed)
    badType[4] = 9
    assert.equal(readEventHeader(badType), undefined)
    const longTarget = Uint8Array.from(e.signed)
    longTarget[61] = 0xff
    assert.equal(readEventHeader(longTarget), undefined)
  })
})
