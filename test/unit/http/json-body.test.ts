import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BODY_JSON_DEPTH_MAX } from '../../../src/http/constants.ts'
import { depthExceededAt, parseJsonBody } from '../../../src/http/json-body.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

describe('request bodies', () => {
  it('parses UTF-8 JSON; blank is undefined', () => {
    assert.deepEqual(parseJsonBody(bytes('{"a":"ü😀"}')), { a: 'ü😀' })
    assert.equal(parseJsonBody(bytes('  \n')), undefined)
  })

  it('refuses invalid UTF-8 naming the byte, instead of replacing it', () => {
    for (const [body, at] of [
      [Uint8Array.of(0x22, 0xff, 0x22), 1],
      [Uint8Array.of(0x22, 0xc3, 0x22), 1],
      [Uint8Array.of(0x22, 0xed, 0xa0, 0x80, 0x22), 1], // an encoded surrogate
      [Uint8Array.of(0x22, 0xc0, 0x80, 0x22), 1], // overlong NUL
    ] as const) {
      assert.throws(() => parseJsonBody(body), {
        name: 'BadRequestError',
        message: new RegExp(`not valid UTF-8 \\(at byte ${at}\\)`),
      })
    }
  })

  it('refuses nesting deeper than the bound before parsing; brackets inside strings do not count', () => {
    const at = (d: number) => '['.repeat(d) + ']'.repeat(d)
    assert.doesNotThrow(() => parseJsonBody(bytes(at(BODY_JSON_DEPTH_MAX))))
    assert.throws(() => parseJsonBody(bytes(at(BODY_JSON_DEPTH_MAX + 1))), {
      name: 'BadRequestError',
      message: /nested deeper than 35/,
    })
    assert.throws(() => parseJsonBody(bytes(at(1_000_000))), { name: 'BadRequestError' })
    assert.equal(depthExceededAt(`["${'['.repeat(100)}\\"${'{'.repeat(100)}"]`, 3), -1)
    assert.equal(depthExceededAt('{"a":[{"b":[1]}]}', 3), 11)
  })

  it('names invalid JSON', () => {
    assert.throws(() => parseJsonBody(bytes('{"a":')), { name: 'BadRequestError', message: /not valid JSON/ })
  })
})
