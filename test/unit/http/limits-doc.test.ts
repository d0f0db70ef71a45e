import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import * as constants from '../../../src/http/constants.ts'

const doc = readFileSync(new URL('../../../docs/LIMITS.md', import.meta.url), 'utf8')

describe('docs/LIMITS.md covers the HTTP API', () => {
  it('names every constant of src/http/constants.ts', () => {
    const section = doc.slice(doc.indexOf('## The HTTP API'))
    assert.ok(section.length > 0, 'docs/LIMITS.md has a section "The HTTP API"')
    for (const name of Object.keys(constants))
      assert.ok(section.includes(`\`${name}\``), `${name} is in docs/LIMITS.md`)
  })
})
