/** Test helpers for storage faults: a node's store with table files, and file damage. */
import { cp, mkdtemp, open, readdir, stat, truncate, unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.ts'
import { startNode } from '../../src/node/index.ts'
import { postJson } from './node.ts'

export function nodeConfig(dir: string, values: Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    values,
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
}

/**
 * A stopped node's data directory whose events are in LevelDB table files: `batches` pushes of
 * 1,000 events (~600 bytes each: 8 MiB memtables flush to tables after ~14 batches), then a
 * restart, which writes the recovered log as a table too.
 */
export async function storeWithTables(
  batches = 20,
): Promise<{ dir: string; events: number; stateHash: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-tables-'))
  let node = await startNode(nodeConfig(dir))
  const url = () => `http://127.0.0.1:${node.http.port}`
  for (let b = 0; b < batches; b++) {
    const r = await postJson(
      `${url()}/sync/push`,
      Array.from({ length: 1000 }, (_, i) => ({
        event_type: 'persona_update',
        target_id: `p-${b}-${i}`,
        payload: { op: 'set', fields: { text: `${b}-${i}-`.padEnd(500, 'x') } },
      })),
    )
    if (r.status !== 200 || r.body.accepted !== 1000) throw new Error(`push ${b}: ${r.status}`)
  }
  await node.stop()
  node = await startNode(nodeConfig(dir))
  const status = await node.api.status()
  await node.stop()
  return { dir, events: status.events, stateHash: status.state_hash }
}

export async function copyDir(from: string): Promise<string> {
  const to = await mkdtemp(join(tmpdir(), 'gkm-case-'))
  await cp(from, to, { recursive: true })
  return to
}

/** Name → size of every file in `dir` (not sub-directories). */
export async function filesOf(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const e of await readdir(dir, { withFileTypes: true }))
    if (e.isFile()) out.set(e.name, (await stat(join(dir, e.name))).size)
  return out
}

export type Damage = 'missing' | 'truncated' | 'garbled'

/** Damages one file: deletes it, cuts it to a third, or overwrites 4 KiB (or all of a small
 *  file) in its middle with a fixed pattern. */
export async function damage(path: string, how: Damage): Promise<void> {
  if (how === 'missing') return unlink(path)
  const size = (await stat(path)).size
  if (how === 'truncated') return truncate(path, Math.floor(size / 3))
  const fh = await open(path, 'r+')
  try {
    const len = Math.min(4096, size)
    const at = Math.max(0, Math.floor(size / 2) - len / 2)
    await fh.write(Buffer.alloc(len, 0x5a), 0, len, at)
  } finally {
    await fh.close()
  }
}
