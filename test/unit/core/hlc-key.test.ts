/**
 * hlcKey (src/core/hlc.ts) is built from a table of byte digits: the same text as the general
 * formula (12 hex digits of the wall, 4 of the counter) over the whole valid range, and the
 * general formula's text outside it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HLC_WALL_MS_MAX } from '../../../src/core/constants.ts'
import { hlcKey } from '../../../src/core/hlc.ts'

const general = (wallMs: number, counter: number) =>
  wallMs.toString(16).padStart(12, '0') + counter.toString(16).padStart(4, '0')

describe('hlcKey', () => {
  it('writes the wall in 12 hex digits and the counter in 4, as the general formula does', () => {
    const walls = [
      0,
      1,
      255,
      256,
      0xffffff,
      0x1000000,
      1_764_000_000_000,
      HLC_WALL_MS_MAX - 1,
      HLC_WALL_MS_MAX,
    ]
    const counters = [0, 1, 255, 256, 0xfffe, 0xffff]
    let seed = 12345
    const rand = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return seed / 2 ** 32
    }
    for (let i = 0; i < 2000; i++) {
      walls.push(Math.floor(rand() * (HLC_WALL_MS_MAX + 1)))
      counters.push(Math.floor(rand() * 0x10000))
    }
    for (const w of walls)
      for (const c of counters.slice(0, 50)) assert.equal(hlcKey({ wallMs: w, counter: c }), general(w, c))
    for (let i = 0; i < walls.length; i++)
      assert.equal(
        hlcKey({ wallMs: walls[i], counter: counters[i % counters.length] }),
        general(walls[i], counters[i % counters.length]),
      )
  })

  it('sorts like the HLC', () => {
    const a = hlcKey({ wallMs: 0xffffff, counter: 0xffff })
    const b = hlcKey({ wallMs: 0x1000000, counter: 0 })
    assert.ok(a < b)
  })

  it('writes an HLC outside the valid range by the general formula', () => {
    for (const [w, c] of [
      [HLC_WALL_MS_MAX + 1, 0],
      [2 ** 52, 3],
      [5, 0x10000],
    ])
      assert.equal(hlcKey({ wallMs: w, counter: c }), general(w, c))
  })
})
