/**
 * One measurement of what a Yjs update costs by the size of its document, for the code under
 * ROOT (this checkout, or an older one checked out by bench/yjs-cost.ts), in a fresh process:
 *
 *   node bench/yjs-cost-child.ts ROOT DOC_BYTES WRITES
 *
 * starts a node (LevelDB in a temp dir, no mesh), builds one document target of about DOC_BYTES
 * of text with Yjs updates of 40,000 characters (local writes, `api.push`), then sends small
 * updates (a few characters typed into the text) one local write at a time, sequentially (each
 * its own durable group, fsync), alternately to the big document and to a second one that starts
 * empty, so both see the same store, heap and machine drift: WARMUP pairs, then WRITES pairs or
 * fewer when they take longer than BENCH_YJS_BUDGET_S seconds (at least MIN_WRITES). Every update
 * is made before the clock starts. Prints one JSON line: CPU per update to each document
 * (`process.cpuUsage` around each write: the whole process, the Yjs guard's worker threads and
 * LevelDB's included), the build time and the RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'

const [root, bytesText, writesText] = process.argv.slice(2)
const DOC_BYTES = Number(bytesText)
const WRITES = Number(writesText)
const WARMUP = 20
const MIN_WRITES = 10
const BUDGET_MS = Number(process.env.BENCH_YJS_BUDGET_S ?? 60) * 1000
const CHUNK = 40_000
const BIG = 'bench-doc'
const SMALL = 'bench-doc-small'

const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)

/** A local document whose edits become updates (base64), made ahead of time. */
function writer() {
  const doc = new Y.Doc()
  const out: string[] = []
  doc.on('update', (u: Uint8Array) => {
    out.push(Buffer.from(u).toString('base64'))
  })
  const text = doc.getText('content')
  return {
    type(s: string): string {
      text.insert(Math.floor(text.length / 2), s)
      return out.pop() as string
    },
  }
}

const item = (target: string, update: string) => ({
  event_type: 'document_update',
  target_id: target,
  payload: { op: 'yjs', update },
})

const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-yjs-'))
let out: Record<string, number>
try {
  const config = configMod.loadConfig({
    env: {},
    flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
  })
  const quiet = nodeMod.silentLogger?.()
  const node = await nodeMod.startNode(config, quiet === undefined ? {} : { logger: quiet })
  const from = { kind: 'local', id: 'bench' }
  const push = async (items: unknown[]) => {
    const r = await node.api.push(items, from)
    if (r.accepted !== items.length) throw new Error(`push not accepted: ${JSON.stringify(r.rejected)}`)
  }
  try {
    const big = writer()
    const small = writer()
    const b0 = performance.now()
    for (let n = 0; n < DOC_BYTES; n += CHUNK) await push([item(BIG, big.type('x'.repeat(CHUNK)))])
    const buildS = (performance.now() - b0) / 1000
    const total = WARMUP + WRITES
    const bigUpdates = Array.from({ length: total }, (_, i) => big.type(`b${i} `))
    const smallUpdates = Array.from({ length: total }, (_, i) => small.type(`s${i} `))
    for (let i = 0; i < WARMUP; i++) {
      await push([item(BIG, bigUpdates[i])])
      await push([item(SMALL, smallUpdates[i])])
    }
    const cpu = { big: 0, small: 0 }
    const one = async (which: 'big' | 'small', i: number) => {
      const c0 = process.cpuUsage()
      await push([which === 'big' ? item(BIG, bigUpdates[i]) : item(SMALL, smallUpdates[i])])
      const c = process.cpuUsage(c0)
      cpu[which] += (c.user + c.system) / 1000
    }
    const start = performance.now()
    let writes = 0
    while (writes < WRITES && (writes < MIN_WRITES || performance.now() - start < BUDGET_MS)) {
      const i = WARMUP + writes
      if (writes % 2 === 0) {
        await one('big', i)
        await one('small', i)
      } else {
        await one('small', i)
        await one('big', i)
      }
      writes++
    }
    out = {
      docBytes: DOC_BYTES,
      writes,
      cpuMsBig: cpu.big / writes,
      cpuMsSmall: cpu.small / writes,
      buildS,
      rssMb: process.memoryUsage().rss / 2 ** 20,
    }
  } finally {
    await node.stop()
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
console.log(JSON.stringify(out))
