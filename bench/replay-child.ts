/**
 * Child of bench/replay.ts: start a node on DIR and report its start-up and memory as JSON.
 * MODE `rebuild` forces a rebuild of the state from the log (the figure the issue names);
 * `restart` is a plain restart of a node that already holds the events.
 * Usage: node [runtime flags] bench/replay-child.ts DIR rebuild|restart
 */
import { readFileSync } from 'node:fs'
import { loadConfig } from '../src/config/index.ts'
import { startNode } from '../src/node/index.ts'
import { anonSplit } from './smaps.ts'

const [dir, mode = 'rebuild'] = process.argv.slice(2)
const t0 = performance.now()
const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  { rebuild: mode === 'rebuild' },
)
const startMs = performance.now() - t0
const status = await node.api.status()
// RSS splits into anonymous memory (heap, native) and file pages (code, LevelDB's mmap'd table
// files: clean page cache the OS can drop), reported apart.
const statusKb = (name: string) =>
  Number(
    new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? Number.NaN,
  )
const mu = process.memoryUsage()
// CPU of the whole process (every thread: libuv's pool, LevelDB's compaction), start-up included:
// on a shared machine a steadier figure than the wall time.
const cpu = process.cpuUsage()
const mb = (n: number) => Math.round(n / 2 ** 20)
const out = {
  mode,
  rebuilt: node.replay.rebuilt,
  events: node.replay.events,
  ms: node.replay.ms,
  waitReadMs: node.replay.waitReadMs,
  waitWriteMs: node.replay.waitWriteMs,
  passes: node.replay.passes,
  scanned: node.replay.scanned,
  startMs,
  cpuS: (cpu.user + cpu.system) / 1e6,
  rssMb: statusKb('VmRSS') / 1024,
  rssAnonMb: statusKb('RssAnon') / 1024,
  rssFileMb: statusKb('RssFile') / 1024,
  heapTotalMb: mb(mu.heapTotal),
  heapUsedMb: mb(mu.heapUsed),
  externalMb: mb(mu.external),
  ...anonSplit(),
  eventsStored: status.events,
  stateHash: status.state_hash,
}
await node.stop()
console.log(JSON.stringify(out))
