import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TARGET_ID_BYTES_MAX } from '../../../src/core/constants.ts'
import { targetIdProblem } from '../../../src/core/ids.ts'
import { eventTypeOf } from '../../../src/core/types.ts'

describe('the target-id rule', () => {
  it('takes ordinary ids, Unicode and 255 UTF-8 bytes', () => {
    for (const ok of [
      'p1',
      'a/b c',
      'ünïcode',
      '日本',
      '😀',
      'x'.repeat(TARGET_ID_BYTES_MAX),
      '😀'.repeat(63) + 'abc',
    ])
      assert.equal(targetIdProblem(ok), undefined, JSON.stringify(ok))
  })

  it('refuses controls (C0, DEL, C1), separators, bidi formatting, BOM, lone surrogates and long ids', () => {
    const bad = [
      ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
      '\u007f',
      '\u0080',
      '\u0085',
      '\u009f',
      '\u200e',
      '\u200f',
      '\u2028',
      '\u2029',
      '\u202a',
      '\u202e',
      '\u2066',
      '\u2069',
      '\ufeff',
    ]
    for (const c of bad)
      assert.match(targetIdProblem(`a${c}b`) ?? '', /control characters/, JSON.stringify(c))
    assert.match(targetIdProblem('a\ud800') ?? '', /lone surrogate/)
    assert.match(targetIdProblem('\udc00') ?? '', /lone surrogate/)
    assert.match(targetIdProblem('x'.repeat(TARGET_ID_BYTES_MAX + 1)) ?? '', /at most 255/)
    assert.match(targetIdProblem('😀'.repeat(64)) ?? '', /at most 255/)
    for (const v of ['', 1, null, undefined, ['a']])
      assert.match(targetIdProblem(v) ?? '', /non-empty string/)
  })

  it('event types by full or short name, nothing from the prototype', () => {
    assert.equal(eventTypeOf('persona'), 'persona_update')
    assert.equal(eventTypeOf('graph_update'), 'graph_update')
    for (const v of ['constructor', '__proto__', 'toString', 'people', '', 7])
      assert.equal(eventTypeOf(v), undefined)
  })
})
