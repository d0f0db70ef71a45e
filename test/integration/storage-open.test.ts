/**
 * Damaged stores at start (issue 9, defects 1 and 9, and the storage fault matrix): for each
 * file LevelDB keeps (CURRENT, MANIFEST, LOG, the WAL .log, a table .ldb), missing, truncated
 * and garbled. Whatever the damage, starting never deletes a table file, a store that cannot be
 * opened is refused with a named error that names the file, and `repair` recovers what can be.
 */
import assert from 'node:assert/strict'
import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type RunningNode, repairStore, startNode } from '../../src/node/index.ts'
import { copyDir, type Damage, damage, filesOf, nodeConfig, storeWithTables } from '../helpers/store-files.ts'

const KINDS = ['CURRENT', 'MANIFEST', 'LOG', 'WAL', 'TABLE'] as const
const DAMAGES: Damage[] = ['missing', 'truncated', 'garbled']
/** Codes a refused start may carry: each says what is wrong and what to do. */
const NAMED = new Set(['storage_damaged', 'storage_corruption', 'storage_format'])

function fileOf(kind: (typeof KINDS)[number], names: string[]): string {
  const pick = (re: RegExp) => {
    const all = names.filter((n) => re.test(n)).sort()
    if (all.length === 0) throw new Error(`no ${kind} file in ${names.join(' ')}`)
    return all[0]
  }
  switch (kind) {
    case 'CURRENT':
      return 'CURRENT'
    case 'MANIFEST':
      return pick(/^MANIFEST-\d+$/)
    case 'LOG':
      return 'LOG'
    case 'WAL':
      return pick(/^\d+\.log$/)
    case 'TABLE':
      return pick(/^\d+\.ldb$/)
  }
}

/** Starts a node; on success counts what it can read (stops it), on failure returns the error. */
async function tryStart(dir: string): Promise<{ node?: { events: number }; err?: Error }> {
  let node: RunningNode
  try {
    node = await startNode(nodeConfig(dir))
  } catch (err) {
    return { err: err as Error }
  }
  try {
    return { node: { events: (await node.api.status()).events } }
  } finally {
    await node.stop()
  }
}

describe('a damaged store at start', () => {
  let base: { dir: string; events: number; stateHash: string }
  const dirs: string[] = []
  before(async () => {
    base = await storeWithTables()
    dirs.push(base.dir)
  })
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('the base store keeps its events in table files', async () => {
    const files = [...(await filesOf(base.dir)).keys()]
    assert.ok(files.filter((f) => f.endsWith('.ldb')).length >= 2, files.join(' '))
  })

  it('defect 1: a missing CURRENT is refused, naming the file and repair, and every table stays', async () => {
    const dir = await copyDir(base.dir)
    dirs.push(dir)
    const before = await filesOf(dir)
    await damage(join(dir, 'CURRENT'), 'missing')
    const { err } = await tryStart(dir)
    assert.equal(err?.name, 'StorageDamagedError', String(err))
    assert.match(err!.message, /CURRENT is missing/)
    assert.match(err!.message, /gkm-sync repair/)
    const after = await filesOf(dir)
    for (const [f, size] of before) if (f.endsWith('.ldb')) assert.equal(after.get(f), size, `${f} changed`)
    // repair on a copy recovers everything, and only --apply touches the data directory
    const look = await repairStore(dir, { nowMs: 1 })
    dirs.push(look.copy)
    assert.ok(!('error' in look.check), JSON.stringify(look.check))
    assert.equal((look.check as { events: number }).events, base.events)
    assert.equal((await tryStart(dir)).err?.name, 'StorageDamagedError')
    const applied = await repairStore(dir, { apply: true, nowMs: 2 })
    dirs.push(applied.copy)
    assert.ok(applied.originalMovedTo !== undefined)
    assert.ok((await readdir(applied.originalMovedTo!)).some((f) => f.endsWith('.ldb')))
    const started = await tryStart(dir)
    assert.equal(started.err, undefined, String(started.err))
    assert.equal(started.node!.events, base.events)
  })

  for (const kind of KINDS) {
    for (const how of DAMAGES) {
      it(`${kind} ${how}: never deletes data, says what is wrong, recovers what it can`, async () => {
        const dir = await copyDir(base.dir)
        dirs.push(dir)
        const names = [...(await filesOf(dir)).keys()]
        const victim = fileOf(kind, names)
        await damage(join(dir, victim), how)
        const before = await filesOf(dir)
        const { node, err } = await tryStart(dir)
        const after = await filesOf(dir)
        // No table file the damage left is deleted or shrunk by the attempt.
        for (const [f, size] of before) {
          if (f.endsWith('.ldb')) assert.ok((after.get(f) ?? -1) >= size, `${f} was deleted or shrunk`)
        }
        if (err !== undefined) {
          const code = (err as { code?: string }).code ?? ''
          assert.ok(NAMED.has(code), `unnamed refusal: ${err.name} ${code} ${err.message}`)
          if (code === 'storage_damaged') assert.match(err.message, /gkm-sync repair/)
          // Repair (on a copy, then applied) gets a store that opens, or says why not.
          const r = await repairStore(dir, { apply: true, nowMs: 1 })
          dirs.push(r.copy)
          if (!('error' in r.check)) {
            const again = await tryStart(dir)
            assert.equal(again.err, undefined, String(again.err))
            assert.ok(again.node!.events <= base.events)
            // Only a lost table loses events: the others keep every one.
            if (kind !== 'TABLE') assert.equal(again.node!.events, base.events)
          } else {
            assert.ok(r.check.message.length > 0)
          }
        } else {
          assert.ok(node!.events <= base.events)
          // The info log and the WAL (the tail after the last restart holds no events) cost nothing.
          if (kind === 'LOG' || kind === 'WAL') assert.equal(node!.events, base.events)
        }
      })
    }
  }
})
