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
