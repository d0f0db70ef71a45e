/**
 * writeBatch prefixes each key itself and writes to the root database: the bytes on disk must be
 * exactly those abstract-level's sublevel option writes (prefix, key in the sublevel's encoding,
 * value in its encoding), for every sublevel of the store, on LevelDB and memory-level, for puts
 * and deletes, text and byte keys and values, empty keys and values, and non-ASCII text.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import type { BatchOp } from '../../../src/store/commit-plan.ts'
import { type LevelDatabase, openSublevels, type Sublevels } from '../../../src/store/keys.ts'
import { writeBatch } from '../../../src/store/write-batch.ts'

const bytes = (s: string) => new TextEncoder().encode(s)

/** Ops over every sublevel: its key type (text or bytes) and value type, plus deletes. */
function opsFor(s: Sublevels): BatchOp[] {
  const ops: BatchOp[] = []
  for (const [name, sub] of Object.entries(s)) {
    const textKey = name === 'conflict' || name === 'meta'
    const textValue = ['state', 'conflict', 'equivocation', 'audit', 'meta', 'logs'].includes(name)
    const key = (k: string) => (textKey ? `${k}-é€` : bytes(k))
    const value = (v: string) => (textValue ? `${v}-ü😀` : bytes(v))
    const any = sub as BatchOp['sublevel']
    ops.push({ type: 'put', sublevel: any, key: key('a'), value: value('1') })
    ops.push({ type: 'put', sublevel: any, key: key('b'), value: textValue ? '' : new Uint8Array(0) })
    ops.push({ type: 'put', sublevel: any, key: key('c'), value: value('3') })
    ops.push({ type: 'del', sublevel: any, key: key('c') })
    ops.push({ type: 'put', sublevel: any, key: Uint8Array.of(0, 255, 33), value: value('x') })
  }
  return ops.filter((o) => !(typeof o.key !== 'string' && o.key.byteLength === 3 && isText(s, o)))
}

/** Sublevels with text keys do not take byte keys. */
function isText(s: Sublevels, o: BatchOp): boolean {
  return o.sublevel === s.conflict || o.sublevel === s.meta
}

/** The same ops through abstract-level's own sublevel option (what writeBatch did before). */
async function reference(db: LevelDatabase, ops: readonly BatchOp[]): Promise<void> {
  const batch = db.batch()
  for (const op of ops) {
    if (op.type === 'put') batch.put(op.key, op.value, { sublevel: op.sublevel as never })
    else batch.del(op.key, { sublevel: op.sublevel as never })
  }
  await batch.write()
}

async function rows(db: LevelDatabase): Promise<string[]> {
  const all = await db.iterator({ keyEncoding: 'view', valueEncoding: 'view' } as never).all()
  return (all as unknown as Array<[Uint8Array, Uint8Array]>).map(
    ([k, v]) => `${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`,
  )
}

async function compare(a: LevelDatabase, b: LevelDatabase): Promise<void> {
  await a.open()
  await b.open()
  const sa = openSublevels(a)
  const sb = openSublevels(b)
  const opsA = opsFor(sa)
  assert.ok(opsA.length >= 4 * Object.keys(sa).length)
  await writeBatch(a, opsA)
  await reference(b, opsFor(sb))
  const [ra, rb] = [await rows(a), await rows(b)]
  assert.ok(ra.length > 0)
  assert.deepEqual(ra, rb)
  // And the store reads them back through its sublevels.
  assert.equal(await sa.meta.get('a-é€'), '1-ü😀')
  assert.equal(await sa.state.get(bytes('b')), '')
  assert.equal(await sa.events.get(bytes('c')), undefined)
  assert.deepEqual(Buffer.from((await sa.events.get(bytes('a'))) as Uint8Array), Buffer.from('1'))
  await a.close()
  await b.close()
}

describe('writeBatch', () => {
  it('writes the bytes the sublevel option writes, on memory-level', async () => {
    await compare(
      new MemoryLevel<string, string>({ storeEncoding: 'buffer' }) as unknown as LevelDatabase,
      new MemoryLevel<string, string>({ storeEncoding: 'buffer' }) as unknown as LevelDatabase,
    )
  })

  it('writes the bytes the sublevel option writes, on LevelDB', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-write-batch-'))
    try {
      await compare(
        new ClassicLevel(join(dir, 'a')) as unknown as LevelDatabase,
        new ClassicLevel(join(dir, 'b')) as unknown as LevelDatabase,
      )
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
