/**
 * The canonical JSON of a cell value (RFC 8785, byte-identical to canonicalJson), with a fast
 * path for the shape that dominates a vector store's writes: an object whose members include long
 * arrays of numbers (`{ values: [768 float32s], metadata }`). The canonicalize library serialises
 * such an array number by number through its generic walker (~0.2 ms per 768-d vector, the
 * largest single cost of ingesting a vector event); for finite numbers RFC 8785's form is
 * exactly JSON.stringify's, so an all-finite array is serialised in one call. Anything else
 * (non-finite numbers, holes, nested objects, toJSON, lone surrogates) goes through
 * canonicalJson unchanged, including its refusals.
 */
import { canonicalJson } from './event-codec.ts'

function finiteNumbers(v: unknown): v is number[] {
  if (!Array.isArray(v) || v.length === 0) return false
  for (let i = 0; i < v.length; i++) {
    const x = v[i]
    if (typeof x !== 'number' || !Number.isFinite(x)) return false
  }
  return true
}

function plainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return (proto === Object.prototype || proto === null) && !('toJSON' in v)
}

/** One level deep only: a member that is neither an all-finite number array nor a primitive
 *  goes through canonicalJson (which bounds nesting itself). */
export function valueJson(value: unknown): string {
  if (finiteNumbers(value)) return JSON.stringify(value)
  if (!plainObject(value)) return canonicalJson(value)
  const keys = Object.keys(value).sort()
  let out = '{'
  let first = true
  for (const k of keys) {
    const member = value[k]
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol')
      return canonicalJson(value)
    if (!k.isWellFormed()) return canonicalJson(value)
    out += `${first ? '' : ','}${JSON.stringify(k)}:${finiteNumbers(member) ? JSON.stringify(member) : canonicalJson(member)}`
    first = false
  }
  return `${out}}`
}
