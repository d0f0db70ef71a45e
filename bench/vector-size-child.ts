/**
 * One vector-size measurement for the code under ROOT (this checkout, or the code at the start of
 * the cost-per-event issue; bench/vector-size.ts runs both):
 *
 *   node bench/vector-size-child.ts ROOT N DIMS
 *
 * Writes N vector upserts of DIMS random float32 dimensions (N targets, one event each) into a
 * node on LevelDB, reads what one event is on the wire (its signed bytes + signature, what the
 * mesh sends), closes the node, compacts the database, and measures the data directory. Prints
 * one JSON line: { wireBytes, diskBytes, events }.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { prng } from './prng.ts'

const [root, nText, dimsText] = process.argv.slice(2)
const n = Number(nText)
const dims = Number(dimsText)
const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  for (const f of await readdir(dir)) total += (await stat(join(dir, f))).size
  return total
}

const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-vec-'))
try {
  const config = configMod.loadConfig({
    env: {},
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
  const quiet = nodeMod.silentLogger?.()
  const node = await nodeMod.startNode(config, quiet === undefined ? {} : { logger: quiet })
  const rnd = prng(7)
  const BATCH = 100
  for (let i = 0; i < n; i += BATCH) {
    const writes = Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => ({
      event_type: 'vector_update',
      target_id: `doc-${i + j}`,
      payload: {
        op: 'upsert',
        values: Array.from({ length: dims }, () => Math.fround(rnd() * 2 - 1)),
        metadata: { source: 'bench' },
      },
    }))
    const r = await node.api.push(writes, { kind: 'local', id: 'bench' })
    if (r.accepted !== writes.length) throw new Error(`push not accepted: ${JSON.stringify(r).slice(0, 300)}`)
  }
  const page = await node.api.pull(
    { data_types: ['vector_update'], limit: 1 },
    { kind: 'local', id: 'bench' },
  )
  const first = page.events[0]
  // What the mesh sends of one event: its signed bytes and its 64-byte signature.
  const wireBytes = first.signed.byteLength + first.signature.byteLength
  await node.stop()
  // Settle the store as it would be after a while: the write-ahead log folded into tables and
  // the tables compacted, so the figure is what the data takes, not when LevelDB last flushed.
  const { ClassicLevel } = await import('classic-level')
  const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  await db.compactRange(new Uint8Array([0]), new Uint8Array([255, 255, 255, 255]))
  await db.close()
  const diskBytes = await dirBytes(dir)
  console.log(JSON.stringify({ wireBytes, diskBytes, events: n }))
} finally {
  await rm(dir, { recursive: true, force: true })
}
