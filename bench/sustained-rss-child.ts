/**
 * Child of bench/sustained-rss.ts: starts one node on DIR (mesh off, HTTP on 127.0.0.1:0), prints
 * `{"url": ...}`, then one JSON memory sample every SAMPLE_MS until stdin closes (then stops the
 * node and prints a last sample). A sample splits RSS into its parts: V8 heap (used, committed),
 * external and array buffers, anonymous and file-backed RSS (/proc/self/smaps_rollup) and
 * LevelDB's own estimate of its memory (`leveldb.approximate-memory-usage`: memtables and block
 * cache in use).
 * Usage: node [runtime flags] bench/sustained-rss-child.ts DIR [SAMPLE_MS]
 */
import { readFileSync } from 'node:fs'
import { getHeapSpaceStatistics } from 'node:v8'
import { ClassicLevel } from 'classic-level'
import { loadConfig } from '../src/config/index.ts'
import { startNode } from '../src/node/index.ts'
import { anonSplit } from './smaps.ts'

const [dir, sampleText = '5000'] = process.argv.slice(2)

// The store keeps its LevelDB handle private; the bench records the instance the node opens
// (reading a property only; nothing else is touched).
const dbs: ClassicLevel<unknown, unknown>[] = []
const proto = ClassicLevel.prototype as unknown as { _open: (...args: unknown[]) => unknown }
const open = proto._open
proto._open = function (this: ClassicLevel<unknown, unknown>, ...args: unknown[]) {
  dbs.push(this)
  return open.apply(this, args)
}

const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  {},
)
const t0 = performance.now()
console.log(JSON.stringify({ url: `http://${node.http.host}:${node.http.port}` }))

const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10
function kb(text: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? Number.NaN)
}
async function sample(): Promise<Record<string, unknown>> {
  const mu = process.memoryUsage()
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8')
  const status = readFileSync('/proc/self/status', 'utf8')
  let levelMb = Number.NaN
  for (const db of dbs) {
    if (db.status !== 'open') continue
    try {
      levelMb = mb(Number(db.getProperty('leveldb.approximate-memory-usage')))
    } catch {}
  }
  const space = (name: string) =>
    mb(getHeapSpaceStatistics().find((x) => x.space_name === name)?.space_size ?? Number.NaN)
  const st = await node.api.status()
  return {
    s: Math.round((performance.now() - t0) / 1000),
    events: st.events,
    rssMb: kb(status, 'VmRSS') / 1024,
    anonMb: mb(kb(rollup, 'Anonymous') * 1024),
    fileMb: mb(kb(status, 'RssFile') * 1024),
    heapUsedMb: mb(mu.heapUsed),
    heapTotalMb: mb(mu.heapTotal),
    newSpaceMb: space('new_space'),
    oldSpaceMb: space('old_space'),
    externalMb: mb(mu.external),
    arrayBuffersMb: mb(mu.arrayBuffers),
    levelMb,
    ...anonSplit(),
  }
}

const timer = setInterval(async () => console.log(JSON.stringify(await sample())), Number(sampleText))
process.stdin.resume()
process.stdin.on('end', async () => {
  clearInterval(timer)
  console.log(JSON.stringify({ last: true, ...(await sample()) }))
  await node.stop()
  process.exit(0)
})
