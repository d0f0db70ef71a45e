/**
 * The payload limits at their edges: nesting depth (JSON_DEPTH_MAX) and field name length in
 * UTF-8 bytes (FIELD_NAME_BYTES_MAX), including names whose UTF-16 length and UTF-8 size differ.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FIELD_NAME_BYTES_MAX, JSON_DEPTH_MAX } from '../../../src/core/constants.ts'
import { InvalidPayloadError } from '../../../src/core/errors.ts'
import { jsonDepthExceeds, parsePayload } from '../../../src/core/payload.ts'
import type { JsonObject, JsonValue } from '../../../src/core/types.ts'

/** An object nested `depth` levels deep (the outermost object is level 1). */
function nested(depth: number, viaArrays = false): JsonValue {
  let v: JsonValue = 1
  for (let i = 1; i < depth; i++) v = viaArrays ? [v] : { k: v }
  return depth === 0 ? v : viaArrays ? [v] : { k: v }
}

const setField = (name: string, value: JsonValue = 1): JsonObject => ({
  op: 'set',
  fields: { [name]: value },
})
const rejects = (p: JsonObject, why: RegExp) =>
  assert.throws(
    () => parsePayload('persona_update', p),
    (e: unknown) => e instanceof InvalidPayloadError && why.test(e.message),
  )

describe('payload limits', () => {
  it('nesting: JSON_DEPTH_MAX levels pass, one more is refused, through objects and arrays', () => {
    for (const viaArrays of [false, true]) {
      assert.equal(jsonDepthExceeds(nested(JSON_DEPTH_MAX, viaArrays), JSON_DEPTH_MAX), false)
      assert.equal(jsonDepthExceeds(nested(JSON_DEPTH_MAX + 1, viaArrays), JSON_DEPTH_MAX), true)
    }
    // payload (1) > fields (2) > value: the value may nest JSON_DEPTH_MAX - 2 levels
    parsePayload('persona_update', setField('a', nested(JSON_DEPTH_MAX - 2)))
    rejects(setField('a', nested(JSON_DEPTH_MAX - 1)), /nested deeper than 32/)
  })

  it('nesting counts keys a JSON parser makes own properties, such as "__proto__"', () => {
    const deep = JSON.parse(
      `{"op":"set","fields":{"a":${'{"__proto__":'.repeat(JSON_DEPTH_MAX)}1${'}'.repeat(JSON_DEPTH_MAX)}}}`,
    )
    rejects(deep, /nested deeper/)
  })

  it('field names: FIELD_NAME_BYTES_MAX UTF-8 bytes pass, one more byte is refused', () => {
    parsePayload('persona_update', setField('a'.repeat(FIELD_NAME_BYTES_MAX)))
    rejects(setField('a'.repeat(FIELD_NAME_BYTES_MAX + 1)), /longer than 128 bytes/)
    // 3-byte characters: 42 of them (126 bytes) pass though 3 x 42 UTF-16 units is close to the
    // limit; 43 (129 bytes) are refused though only 43 units long.
    parsePayload('persona_update', setField('€'.repeat(42)))
    rejects(setField('€'.repeat(43)), /longer than 128 bytes/)
    // 4-byte characters are two UTF-16 units each: 32 of them are exactly 128 bytes.
    parsePayload('persona_update', setField('😀'.repeat(32)))
    rejects(setField(`${'😀'.repeat(32)}a`), /longer than 128 bytes/)
  })
})
