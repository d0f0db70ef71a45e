import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LruMap } from '../../../src/util/lru.ts'

test('LruMap keeps at most max entries and evicts the least recently used', () => {
  const m = new LruMap<string, number>(3)
  m.set('a', 1)
  m.set('b', 2)
  m.set('c', 3)
  assert.equal(m.get('a'), 1) // a is now the most recent
  m.set('d', 4) // evicts b
  assert.equal(m.size, 3)
  assert.equal(m.get('b'), undefined)
  assert.deepEqual(
    ['a', 'c', 'd'].map((k) => m.get(k)),
    [1, 3, 4],
  )
  m.set('a', 10) // overwrite keeps size
  assert.equal(m.size, 3)
  assert.equal(m.get('a'), 10)
  m.delete('a')
  assert.equal(m.get('a'), undefined)
  m.clear()
  assert.equal(m.size, 0)
})

test('LruMap refuses a bound below one', () => {
  assert.throws(() => new LruMap(0), RangeError)
})

test('LruMap stays bounded under churn far beyond its size', () => {
  const m = new LruMap<number, number>(1000)
  for (let i = 0; i < 200_000; i++) {
    m.set(i, i)
    m.get(i - 10)
  }
  assert.equal(m.size, 1000)
  assert.equal(m.get(199_999), 199_999)
  assert.equal(m.get(0), undefined)
})

test('LruMap with a byte bound evicts the least recently used until the estimate fits', () => {
  const m = new LruMap<string, string>(100, { max: 10, of: (v) => v.length })
  m.set('a', 'xxxx') // 4
  m.set('b', 'xxxx') // 8
  assert.equal(m.get('a'), 'xxxx') // a is now the most recent
  m.set('c', 'xxxx') // 12 > 10: evicts b
  assert.equal(m.get('b'), undefined)
  assert.deepEqual([m.get('a'), m.get('c')], ['xxxx', 'xxxx'])
  m.set('d', 'x'.repeat(11)) // larger than the whole bound: not kept, nothing else lost
  assert.equal(m.get('d'), undefined)
  assert.equal(m.size, 2)
  // The count bound still holds with a generous byte bound.
  const n = new LruMap<number, number>(3, { max: 1_000_000, of: () => 1 })
  for (let i = 0; i < 10; i++) n.set(i, i)
  assert.equal(n.size, 3)
  assert.throws(() => new LruMap(1, { max: 0, of: () => 1 }), RangeError)
})
