/**
 * The ingest engine's caches are bounded by estimated bytes as well as by count: the estimate
 * grows with what a cached target holds, and the bounds still leave room for a useful hot set.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  META_CACHE_BYTES_MAX,
  metaCacheBytes,
  TARGET_CACHE_BYTES_MAX,
  targetCacheBytes,
} from '../../../src/core/ingest.ts'
import { emptyTarget, type TargetState } from '../../../src/core/target-state.ts'
import type { Digest } from '../../../src/core/types.ts'

const digest = (i: number) => i.toString(16).padStart(64, '0') as Digest

function persona(cells: number): TargetState {
  const s = emptyTarget('persona_update', 'p')
  s.heads.push(digest(1))
  for (let i = 0; i < cells; i++) {
    const entry = { d: digest(i), s: `${'0'.repeat(16)}${'a'.repeat(64)}`, h: `=${i}` }
    s.cells[`field:f${i}`] = { w: { ...entry, v: i }, f: [entry] }
  }
  return s
}

test('a cached target is counted by the cells it holds', () => {
  const one = targetCacheBytes(persona(1))
  const many = targetCacheBytes(persona(64))
  assert.ok(many > 8 * one, `${many} vs ${one}`)
  // A persona of eight fields (the benches' shape): thousands fit.
  assert.ok(TARGET_CACHE_BYTES_MAX / targetCacheBytes(persona(8)) >= 2_000)
  // Metas: tens of thousands fit.
  assert.ok(META_CACHE_BYTES_MAX / metaCacheBytes({ hlcKey: '0'.repeat(16), parents: [digest(1)] }) >= 20_000)
})
