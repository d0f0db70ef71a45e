/**
 * The rebuild's read (src/store/target-scan.ts) below the Store port: the spill to bucket files
 * with records larger than a write buffer and than a read chunk, and the fall-back to passes
 * over the log when the spill cannot be written.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { MemoryLevel } from 'memory-level'
import type { SignedEvent } from '../../../src/core/types.ts'
import type { LevelDatabase } from '../../../src/store/keys.ts'
import * as K from '../../../src/store/keys.ts'
import { LevelStore } from '../../../src/store/level-store.ts'
import { scanByTarget } from '../../../src/store/target-scan.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const signer = testSigner(61)

/** Events of 12 targets; every fifth carries a 60 or 65 KB value (payloads go up to 64 KiB; a
 *  spill record of 65 KB is larger than a bucket's write buffer). */
function events(): SignedEvent[] {
  const out: SignedEvent[] = []
  for (let i = 0; i < 120; i++)
    out.push(
      makeEvent(signer, {
        target: `big-${i % 12}`,
        payload: {
          op: 'set',
          fields: { f: i % 5 === 0 ? 'x'.repeat(i % 10 === 0 ? 65_000 : 60_000) + i : i },
        },
        hlc: { wallMs: 1_764_000_000_000 + ((i * 7) % 50), counter: i },
      }),
    )
  return out
}

/** A memory store holding `all` (default: `events()`), committed as one batch of the log only. */
async function filled(
  all: SignedEvent[] = events(),
): Promise<{ db: LevelDatabase; store: LevelStore; all: SignedEvent[] }> {
  const db = new MemoryLevel<string, string>() as LevelDatabase
  const store = new LevelStore(db)
  await store.open()
  await store.commit({
    events: all.map((e) => ({ signed: e.signed, signature: e.signature })),
    targets: [],
    conflicts: [],
    equivocations: [],
    audit: [],
    meta: {},
  })
  return { db, store, all }
}

/** Hex of each event's signed bytes, per target, in the order handed out; and target runs. */
function grouped(pages: ReadonlyArray<ReadonlyArray<{ signed: Uint8Array; digest?: string }>>) {
  const out = new Map<string, string[]>()
  let runs = 0
  let prev: string | undefined
  for (const e of pages.flat()) {
    const target = Buffer.from(e.signed.subarray(63, 63 + e.signed[62])).toString()
    if (target !== prev) runs++
    prev = target
    out.set(target, [...(out.get(target) ?? []), e.digest!])
  }
  return { out, runs }
}

async function collect(source: AsyncIterable<Array<{ signed: Uint8Array; digest?: string }>>) {
  const pages = []
  for await (const page of source) pages.push(page)
  return pages
}

describe('scanByTarget', () => {
  it('spills to bucket files (records above the write buffer, files above a read chunk) and removes them', async () => {
    const { db, store, all } = await filled()
    const dir = await mkdtemp(join(tmpdir(), 'gkm-scan-'))
    try {
      const spill = join(dir, 'spill')
      const want = grouped([await store.readByTargetOrder(undefined, 1000).then((p) => p.events)])
      for (const [bufferBytes, buckets] of [
        [4 << 20, 1],
        [4 << 20, 3],
        [256 << 10, 2],
      ]) {
        const stats = { passes: 0, scanned: 0 }
        const pages = await collect(
          scanByTarget(db, K.openSublevels(db), {
            bufferBytes,
            pageEvents: 9,
            stats,
            spill: { dir: spill, buckets },
          }),
        )
        const got = grouped(pages)
        assert.equal(pages.flat().length, all.length)
        assert.equal(got.runs, 12, 'each target together')
        assert.deepEqual(got.out, want.out)
        // The log once, then each bucket file (one pass each with the large buffer).
        if (bufferBytes > 1 << 20) assert.equal(stats.passes, 1 + buckets)
        else assert.ok(stats.passes > 1 + buckets)
        assert.deepEqual(await readdir(dir), [])
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
      await store.close()
    }
  })

  it('falls back to passes over the log when the spill cannot be written', async () => {
    const { db, store } = await filled()
    const want = grouped([await store.readByTargetOrder(undefined, 1000).then((p) => p.events)])
    const stats: { passes: number; scanned: number; spillFailed?: string } = { passes: 0, scanned: 0 }
    // A directory under a regular file cannot be made (ENOTDIR), even by root.
    const dir = await mkdtemp(join(tmpdir(), 'gkm-scan-'))
    const file = join(dir, 'not-a-directory')
    await writeFile(file, 'x')
    try {
      const pages = await collect(
        scanByTarget(db, K.openSublevels(db), {
          bufferBytes: 1 << 20,
          pageEvents: 50,
          stats,
          spill: { dir: join(file, 'spill'), buckets: 4 },
        }),
      )
      assert.deepEqual(grouped(pages).out, want.out)
      assert.ok(stats.passes > 1, `${stats.passes} passes over the log`)
      assert.equal(stats.scanned, 120 * stats.passes)
      assert.match(
        stats.spillFailed ?? '',
        /ENOTDIR|not a directory/,
        'the reason the spill failed is reported',
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
      await store.close()
    }
  })

  it('names an event whose value is not an event, whichever pass meets it', async () => {
    const { db, store, all } = await filled()
    const ev = db.sublevel<Uint8Array, Uint8Array>('ev', { keyEncoding: 'view', valueEncoding: 'view' })
    await ev.put(K.digestKey(all[7].digest)!, new Uint8Array(80))
    for (const spill of [undefined, { dir: join(tmpdir(), `gkm-scan-bad-${process.pid}`), buckets: 2 }])
      await assert.rejects(
        collect(scanByTarget(db, K.openSublevels(db), { bufferBytes: 1 << 20, pageEvents: 50, spill })),
        (err: Error) => err.name === 'StorageCorruptionError' && err.message.includes(all[7].digest),
      )
    await store.close()
  })

  it('names an event whose bytes do not hash to its key, spilled or not', async () => {
    const { db, store, all } = await filled()
    const ev = db.sublevel<Uint8Array, Uint8Array>('ev', { keyEncoding: 'view', valueEncoding: 'view' })
    // Another event's value (a well-formed event) under this one's key.
    await ev.put(K.digestKey(all[7].digest)!, Buffer.concat([all[8].signature, all[8].signed]))
    for (const spill of [undefined, { dir: join(tmpdir(), `gkm-scan-hash-${process.pid}`), buckets: 2 }])
      await assert.rejects(
        collect(scanByTarget(db, K.openSublevels(db), { bufferBytes: 1 << 20, pageEvents: 50, spill })),
        (err: Error) =>
          err.name === 'StorageCorruptionError' &&
          err.message.includes(all[7].digest) &&
          /do not hash/.test(err.message),
      )
    await store.close()
  })

  it('keeps two targets of the same 32-bit hash apart (the spill file sorted by its keys instead)', async () => {
    // FNV-1a of type code 2 (persona_update) and these ids is 4013890952 for both.
    const targets = ['collide-179069', 'collide-1642162']
    // Their HLCs interleave: ordered by (hash, HLC) alone, the two targets would alternate.
    const all = Array.from({ length: 40 }, (_, i) =>
      makeEvent(signer, {
        target: targets[i % 2],
        payload: { op: 'set', fields: { f: i } },
        hlc: { wallMs: 1_764_000_000_000 + i, counter: 0 },
      }),
    )
    const { db, store } = await filled(all)
    const dir = await mkdtemp(join(tmpdir(), 'gkm-scan-'))
    try {
      const want = grouped([await store.readByTargetOrder(undefined, 1000).then((p) => p.events)])
      const pages = await collect(
        scanByTarget(db, K.openSublevels(db), {
          bufferBytes: 1 << 20,
          pageEvents: 7,
          spill: { dir: join(dir, 'spill'), buckets: 1 },
        }),
      )
      const got = grouped(pages)
      assert.equal(pages.flat().length, all.length)
      assert.equal(got.runs, 2, 'each target together')
      assert.deepEqual(got.out, want.out)
    } finally {
      await rm(dir, { recursive: true, force: true })
      await store.close()
    }
  })
})
