/**
 * releaseMemory (src/node/release-memory.ts): after a rebuild the node runs one memory-reducing
 * major collection. Without --expose-gc (the test runner does not pass it) it must still find
 * V8's collector, and the heap the dropped objects held must be given back.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { releaseMemory } from '../../../src/node/release-memory.ts'

describe('releaseMemory', () => {
  it('collects what was dropped and shrinks the committed heap', () => {
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'run without --expose-gc')
    let garbage: Array<{ n: number; s: string }> | undefined = []
    for (let i = 0; i < 600_000; i++) garbage.push({ n: i, s: `value ${i}` })
    const before = process.memoryUsage().heapTotal
    garbage = undefined
    assert.equal(releaseMemory(), true)
    const after = process.memoryUsage().heapTotal
    assert.ok(after < before / 2, `heap ${before} -> ${after} bytes`)
    // And again (the flag is set once more; the extension comes with each new context).
    assert.equal(releaseMemory(), true)
  })
})
