import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import { UnsafeCrdtUpdateError } from '../../../src/core/errors.ts'
import { retryLaterOf } from '../../../src/node/sync-node.ts'
import { createYjsGuard, type YjsGuard, type YjsGuardInit } from '../../../src/node/yjs-guard.ts'

/**
 * Crafted payloads from yjs/yjs tests/limits.tests.js (commit 567372e), regression seeds. They
 * target v2 decoding and `mergeUpdates`; as v1 updates three throw, and two parse as an empty
 * update followed by garbage, which only the guard's end-of-input check refuses.
 */
const CRAFTED: Record<string, Uint8Array> = {
  // "Binary with 4398046511101 structs" (mergeUpdatesV2; hangs yjs 13.6.33, research 1.10)
  mergeV2TooManyStructs: new Uint8Array([
    0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 2, 0, 0, 22, 2, 0, 0, 1, 253, 255, 255, 255, 255, 127, 0, 0,
  ]),
  // "Binary with 265828 updates" (mergeUpdates v1; hangs yjs 13.6.33)
  mergeV1TooManyUpdates: new Uint8Array([
    228, 156, 16, 0, 5, 255, 255, 5, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 237, 0, 0, 0, 1, 1, 0, 254, 184, 194, 233,
    173, 135, 217, 18, 0, 0, 1, 1, 255, 237, 246,
  ]),
  // "Binary with 7658324286 updates" (mergeUpdatesV2)
  mergeV2TooManyUpdates: new Uint8Array([
    228, 149, 0, 0, 1, 24, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 237, 1, 190, 130, 227, 195, 28, 1, 2, 228, 149, 0, 0,
    1, 24, 0, 0, 1, 24, 0, 0, 1, 0, 1, 237, 0,
  ]),
  // "Update with a GC item of length 553253" (mergeUpdatesV2)
  tooLargeGcItem: new Uint8Array([
    143, 1, 128, 0, 0, 0, 1, 170, 1, 0, 1, 2, 0, 0, 22, 2, 0, 229, 196, 67, 20, 231, 166, 139, 147, 174, 181,
    253, 93, 232, 38, 154, 138, 89, 0, 49, 213, 15, 18, 1, 48, 0, 0, 0,
  ]),
  // "Binary with 267854847 structs in one update" (applyUpdateV2; 880 MB after 10 s, research 1.10)
  applyV2TooManyStructs: new Uint8Array([
    0, 1, 35, 0, 0, 0, 1, 2, 129, 0, 0, 16, 0, 199, 220, 0, 196, 122, 128, 0, 65, 171, 234, 214, 0, 1, 0, 0,
    1, 0, 0, 132, 0, 0, 16, 255, 199, 220, 255, 0, 0, 0,
  ]),
}

/** A hang in the guard fails the suite in seconds rather than at the runner's 120 s. */
const SUITE = { timeout: 15_000 }

/** Generous allowance for scheduling on a loaded 2-core machine, on top of timeoutMs. */
const SCHEDULING_SLACK_MS = 250

async function withGuard(init: YjsGuardInit, fn: (guard: YjsGuard) => Promise<void>): Promise<void> {
  const guard = createYjsGuard(init)
  try {
    await fn(guard)
  } finally {
    await guard.stop()
  }
}

/**
 * Asserts an UnsafeCrdtUpdateError whose message matches, and whether the verdict is transient
 * (depends on this node: timeout, memory, queue, stop) or on the bytes alone.
 */
function rejectedWith(pattern: RegExp, kind: 'transient' | 'deterministic'): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof UnsafeCrdtUpdateError, `expected UnsafeCrdtUpdateError, got ${String(err)}`)
    assert.equal(err.code, 'unsafe_crdt_update')
    assert.match(err.message, pattern)
    const causeName = (err.cause as Error | undefined)?.name
    assert.equal(causeName === 'YjsGuardTransientError' ? 'transient' : 'deterministic', kind, err.message)
    return true
  }
}

/** Settles before any macrotask runs: proof that no worker round trip was involved. */
async function settlesWithoutWorker(p: Promise<unknown>): Promise<unknown> {
  const late = new Promise((resolve) => setImmediate(() => resolve('late')))
  const outcome = await Promise.race([
    p.then(
      () => 'resolved',
      (err: unknown) => err,
    ),
    late,
  ])
  assert.notEqual(outcome, 'late', 'settled only after a macrotask')
  return outcome
}

function docWith(clientId: number, edit: (doc: Y.Doc) => void): Y.Doc {
  const doc = new Y.Doc()
  doc.clientID = clientId
  edit(doc)
  return doc
}

function mapUpdate(): Uint8Array {
  return Y.encodeStateAsUpdate(docWith(1, (d) => d.getMap('m').set('title', 'hello')))
}

function contentOf(state: Uint8Array): unknown {
  const doc = new Y.Doc()
  Y.applyUpdate(doc, state)
  return { m: doc.getMap('m').toJSON(), t: doc.getText('t').toJSON() }
}

/** mulberry32: a seeded PRNG, so that a failure names the input that caused it. */
function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A valid state that takes ~0.5 s and ~80 MB of heap to apply: 100,000 separate map items. */
let bigStateMemo: Uint8Array | undefined
function bigState(): Uint8Array {
  bigStateMemo ??= Y.encodeStateAsUpdate(
    docWith(42, (d) => {
      const m = d.getMap('big')
      d.transact(() => {
        for (let i = 0; i < 100_000; i++) m.set(`k${i}`, i)
      })
    }),
  )
  return bigStateMemo
}

describe('yjs guard: valid updates', SUITE, () => {
  it('accepts a map update and leaves the caller bytes intact', async () => {
    await withGuard({}, async (guard) => {
      const update = mapUpdate()
      const copy = update.slice()
      await guard.check(update)
      assert.deepEqual(update, copy)
      assert.deepEqual(guard.stats, { checked: 1, rejected: 0, workerRestarts: 0 })
    })
  })

  it('accepts a text update with formatting and deletions', async () => {
    await withGuard({}, async (guard) => {
      const doc = docWith(2, (d) => {
        const t = d.getText('t')
        t.insert(0, 'hello brave new world')
        t.delete(6, 6)
        t.format(0, 5, { bold: true })
      })
      await guard.check(Y.encodeStateAsUpdate(doc))
    })
  })

  it('accepts an update whose dependency is missing, and merges it once the dependency arrives', async () => {
    await withGuard({}, async (guard) => {
      const doc = docWith(3, (d) => d.getText('t').insert(0, 'ab'))
      const first = Y.encodeStateAsUpdate(doc)
      const sv = Y.encodeStateVector(doc)
      doc.getText('t').insert(2, 'cd')
      const second = Y.encodeStateAsUpdate(doc, sv)
      await guard.check(second)
      const pendingOnly = await guard.merge(undefined, second)
      assert.equal((contentOf(pendingOnly) as { t: string }).t, '')
      const whole = await guard.merge(pendingOnly, first)
      assert.equal((contentOf(whole) as { t: string }).t, 'abcd')
    })
  })

  it('merges two concurrent updates to the content Y.mergeUpdates gives, in either order', async () => {
    await withGuard({}, async (guard) => {
      const a = Y.encodeStateAsUpdate(
        docWith(10, (d) => {
          d.getMap('m').set('title', 'from a')
          d.getMap('m').set('a', 1)
          d.getText('t').insert(0, 'AAA')
        }),
      )
      const b = Y.encodeStateAsUpdate(
        docWith(11, (d) => {
          d.getMap('m').set('title', 'from b')
          d.getMap('m').set('b', 2)
          d.getText('t').insert(0, 'BBB')
        }),
      )
      const expected = contentOf(Y.mergeUpdates([a, b]))
      const ab = await guard.merge(await guard.merge(undefined, a), b)
      const ba = await guard.merge(b, a)
      assert.deepEqual(contentOf(ab), expected)
      assert.deepEqual(contentOf(ba), expected)
      assert.deepEqual(contentOf(await guard.merge(new Uint8Array(0), a)), contentOf(a)) // empty base: no state yet
      assert.deepEqual(Y.encodeStateVectorFromUpdate(ab), Y.encodeStateVectorFromUpdate(ba))
    })
  })
})

describe('yjs guard: hostile input', SUITE, () => {
  it('rejects zero-length and oversized input without a worker', async () => {
    await withGuard({ updateBytesMax: 16 }, async (guard) => {
      rejectedWith(
        /empty update/,
        'deterministic',
      )(await settlesWithoutWorker(guard.check(new Uint8Array(0))))
      rejectedWith(
        /empty update/,
        'deterministic',
      )(await settlesWithoutWorker(guard.merge(mapUpdate(), new Uint8Array(0))))
      rejectedWith(
        /too large: 17 bytes > 16/,
        'deterministic',
      )(await settlesWithoutWorker(guard.check(new Uint8Array(17))))
      assert.deepEqual(guard.stats, { checked: 3, rejected: 3, workerRestarts: 0 })
    })
  })

  it('rejects seeded random garbage', async () => {
    const seed = 0x5eed
    const rnd = prng(seed)
    await withGuard({}, async (guard) => {
      const inputs = Array.from({ length: 200 }, () =>
        Uint8Array.from({ length: 1 + Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)),
      )
      const outcomes = await Promise.all(
        inputs.map((u) =>
          guard.check(u).then(
            () => 'accepted',
            (err: unknown) => err,
          ),
        ),
      )
      outcomes.forEach((outcome, i) => {
        const hex = Buffer.from(inputs[i]).toString('hex')
        assert.ok(
          outcome instanceof UnsafeCrdtUpdateError,
          `seed ${seed} input ${i} (${hex}): ${String(outcome)}`,
        )
      })
    })
  })

  it('rejects each crafted payload of yjs limits tests within the bound, then still accepts valid updates', async (t) => {
    const timeoutMs = 250
    await withGuard({ timeoutMs }, async (guard) => {
      await guard.check(mapUpdate()) // start-up is not part of the bound
      const base = mapUpdate()
      for (const [name, payload] of Object.entries(CRAFTED)) {
        for (const run of [() => guard.check(payload), () => guard.merge(base, payload)]) {
          const started = performance.now()
          await assert.rejects(run(), rejectedWith(/(invalid|shape): /, 'deterministic'), name)
          const elapsedMs = performance.now() - started
          assert.ok(elapsedMs < timeoutMs + SCHEDULING_SLACK_MS, `${name} took ${elapsedMs.toFixed(0)} ms`)
          t.diagnostic(`${name} (${payload.length} B) rejected in ${elapsedMs.toFixed(1)} ms`)
        }
      }
      await guard.check(mapUpdate())
      assert.deepEqual(guard.stats, { checked: 12, rejected: 10, workerRestarts: 0 })
    })
  })

  it('terminates and replaces a worker that exceeds the time bound', async (t) => {
    const big = bigState()
    await withGuard({ workers: 1, timeoutMs: 150 }, async (guard) => {
      await guard.check(mapUpdate())
      let started = performance.now()
      await assert.rejects(
        guard.merge(big, mapUpdate()),
        rejectedWith(/timeout: no verdict within 150 ms/, 'transient'),
      )
      t.diagnostic(`timeout verdict after ${(performance.now() - started).toFixed(0)} ms (bound 150)`)
      started = performance.now()
      await guard.check(mapUpdate())
      t.diagnostic(`next check, on the replacement worker: ${(performance.now() - started).toFixed(0)} ms`)
      assert.deepEqual(guard.stats, { checked: 3, rejected: 1, workerRestarts: 1 })
    })
  })

  it('replaces a worker killed by its heap limit; queued work continues', async (t) => {
    const big = bigState()
    await withGuard({ workers: 1, memoryMb: 24, timeoutMs: 10_000 }, async (guard) => {
      await guard.check(mapUpdate())
      const started = performance.now()
      const doomed = guard.merge(big, mapUpdate())
      doomed.catch(() => t.diagnostic(`memory verdict after ${(performance.now() - started).toFixed(0)} ms`))
      const queued = guard.check(mapUpdate())
      await assert.rejects(doomed, rejectedWith(/memory: worker exceeded its 24 MB heap limit/, 'transient'))
      await queued
      assert.deepEqual(guard.stats, { checked: 3, rejected: 1, workerRestarts: 1 })
    })
  })
})

describe('yjs guard: queue and lifecycle', SUITE, () => {
  it('rejects beyond queueMax, first in first out', async () => {
    await withGuard({ workers: 1, queueMax: 2 }, async (guard) => {
      const order: number[] = []
      const first = guard.check(mapUpdate()).then(() => order.push(1))
      const second = guard.check(mapUpdate()).then(() => order.push(2))
      rejectedWith(/guard queue full/, 'transient')(await settlesWithoutWorker(guard.check(mapUpdate())))
      await Promise.all([first, second])
      assert.deepEqual(order, [1, 2])
      await guard.check(mapUpdate()) // room again
    })
  })

  it('stop() rejects queued and running work, and every later call', async () => {
    const guard = createYjsGuard({ workers: 1, timeoutMs: 10_000 })
    try {
      await guard.check(mapUpdate())
      const running = guard.merge(bigState(), mapUpdate())
      const queued = [guard.check(mapUpdate()), guard.merge(undefined, mapUpdate())]
      const outcomes = Promise.allSettled([running, ...queued])
      await guard.stop()
      for (const outcome of await outcomes) {
        assert.equal(outcome.status, 'rejected')
        rejectedWith(/guard stopped/, 'transient')(outcome.reason)
      }
      await assert.rejects(guard.check(mapUpdate()), rejectedWith(/guard stopped/, 'transient'))
    } finally {
      await guard.stop()
    }
  })

  it('stop() before first use resolves (lazy start) and init is validated', async () => {
    await createYjsGuard().stop()
    assert.throws(() => createYjsGuard({ workers: 0 }), RangeError)
    assert.throws(() => createYjsGuard({ timeoutMs: 1.5 }), RangeError)
    // Below 16 MB a worker cannot load yjs; at 2 MB V8 aborts the whole process.
    assert.throws(() => createYjsGuard({ memoryMb: 2 }), RangeError)
  })

  it('measures: start-up, and the cost of a check (diagnostic only)', async (t) => {
    await withGuard({}, async (guard) => {
      let started = performance.now()
      await guard.check(mapUpdate())
      t.diagnostic(`first check incl. worker start: ${(performance.now() - started).toFixed(0)} ms`)
      const small = mapUpdate()
      const rounds = 1000 // = queueMax (1024) minus headroom
      started = performance.now()
      await Promise.all(Array.from({ length: rounds }, () => guard.check(small)))
      const totalMs = performance.now() - started
      t.diagnostic(
        `${rounds} small checks on 2 workers, all queued at once: ${totalMs.toFixed(0)} ms, ${((1000 * rounds) / totalMs).toFixed(0)}/s`,
      )
      const latencies: number[] = []
      for (let i = 0; i < 200; i++) {
        started = performance.now()
        await guard.check(small)
        latencies.push(performance.now() - started)
      }
      latencies.sort((x, y) => x - y)
      t.diagnostic(
        `one small check, sequential: p50 ${latencies[100].toFixed(3)} ms, p99 ${latencies[198].toFixed(3)} ms`,
      )
      const doc = new Y.Doc()
      doc.transact(() => {
        for (let i = 0; i < 4000; i++) doc.getMap('m').set(`k${i}`, i)
      })
      const large = Y.encodeStateAsUpdate(doc)
      started = performance.now()
      await guard.check(large)
      t.diagnostic(
        `one ${large.length}-byte update (4,000 map items): ${(performance.now() - started).toFixed(1)} ms`,
      )
    })
  })
})

/** A verdict as another node would see it: accepted, refused for good (with the reason), or not
 *  decided (a transient refusal: retried later). */
async function verdict(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'accept'
  } catch (err) {
    assert.ok(err instanceof UnsafeCrdtUpdateError, String(err))
    if ((err.cause as Error | undefined)?.name === 'YjsGuardTransientError') return 'transient'
    return `refuse: ${err.message}`
  }
}

/** Every timed-out check costs a worker respawn (130-350 ms idle, seconds on a machine shared
 *  with other jobs), so this suite gets more time than SUITE. */
describe('yjs guard: the decision does not depend on load', { timeout: 60_000 }, () => {
  it('a starved guard (1 worker, 5 ms, a queue of other work) decides as an idle one, or not at all (retry)', async () => {
    const doc = new Y.Doc()
    doc.transact(() => {
      for (let i = 0; i < 4000; i++) doc.getMap('m').set(`k${i}`, i)
    })
    const updates: Record<string, Uint8Array> = {
      small: mapUpdate(),
      large: Y.encodeStateAsUpdate(doc),
      // A GC run past the clock-span bound: valid for yjs, refused by its shape.
      longGc: Uint8Array.from([1, 1, 7, 0, 0, 0x81, 0x80, 0x80, 0x01, 0]),
      ...CRAFTED,
    }
    const idle: Record<string, string> = {}
    await withGuard({}, async (guard) => {
      for (const [name, u] of Object.entries(updates)) idle[name] = await verdict(guard.check(u))
    })
    assert.equal(idle.small, 'accept')
    assert.equal(idle.large, 'accept')
    assert.match(idle.longGc, /shape: structs span more than/)
    const loaded: Record<string, string> = {}
    await withGuard({ workers: 1, timeoutMs: 5 }, async (guard) => {
      await verdict(guard.check(mapUpdate())) // the worker is up; what follows is load, not start-up
      const background = Array.from({ length: 4 }, () => verdict(guard.check(mapUpdate())))
      for (const [name, u] of Object.entries(updates)) loaded[name] = await verdict(guard.check(u))
      await Promise.all(background)
    })
    for (const name of Object.keys(updates)) {
      assert.ok(
        loaded[name] === idle[name] || loaded[name] === 'transient',
        `${name}: idle ${idle[name]}, loaded ${loaded[name]}`,
      )
    }
    // Refusals by size and structure need no worker: exactly the same under load.
    for (const name of ['longGc', ...Object.keys(CRAFTED)])
      if (idle[name].includes('shape:')) assert.equal(loaded[name], idle[name], name)
    // The large update (22-130 ms to apply here) could not be applied in 5 ms: not decided,
    // never refused for good.
    assert.equal(loaded.large, 'transient')
  })
})

describe('yjs guard refusals in the node', SUITE, () => {
  it('a transient refusal (check or merge) becomes retry_later; a verdict on the bytes stays unsafe_crdt_update', async () => {
    const doc = new Y.Doc()
    doc.transact(() => {
      for (let i = 0; i < 4000; i++) doc.getMap('m').set(`k${i}`, i)
    })
    const large = Y.encodeStateAsUpdate(doc)
    await withGuard({ workers: 1, timeoutMs: 1 }, async (guard) => {
      for (const run of [() => guard.check(large), () => guard.merge(undefined, large)]) {
        const err = await run().then(
          () => assert.fail('a 55 KB update applied within 1 ms'),
          (e: unknown) => e,
        )
        const retry = retryLaterOf(err)
        assert.equal(retry?.code, 'retry_later')
        assert.equal(retry?.cause, err)
      }
      const shape = await guard
        .check(Uint8Array.from([1, 1, 7, 0, 0, 0x81, 0x80, 0x80, 0x01, 0]))
        .catch((e) => e)
      assert.equal((shape as UnsafeCrdtUpdateError).code, 'unsafe_crdt_update')
      assert.equal(retryLaterOf(shape), undefined)
    })
  })
})
