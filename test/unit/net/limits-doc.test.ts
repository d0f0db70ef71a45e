import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import * as constants from '../../../src/net/constants.ts'
import * as host from '../../../src/net/host.ts'
import * as wire from '../../../src/wire/constants.ts'

const doc = readFileSync(new URL('../../../docs/LIMITS.md', import.meta.url), 'utf8')

describe('docs/LIMITS.md', () => {
  it('names every constant of the mesh', () => {
    const names = [
      ...Object.keys(constants),
      ...Object.keys(host).filter((k) => /^[A-Z_]+$/.test(k)),
      'FRAME_PREFIX_BYTES_MAX',
    ]
    const missing = names.filter((n) => !doc.includes(`\`${n}\``))
    assert.deepEqual(missing, [])
    assert.ok(Object.keys(wire).length > 0)
  })

  it('states the values that are easy to get wrong', () => {
    assert.ok(doc.includes(constants.EVENT_SIGNED_BYTES_MAX.toLocaleString('en-US')))
    assert.ok(doc.includes(constants.EVENT_WIRE_BYTES_MAX.toLocaleString('en-US')))
    assert.ok(doc.includes(constants.FRAME_BYTES_MIN.toLocaleString('en-US')))
  })
})
