/** Child of bench/replay.ts: start a node on DIR (forcing a rebuild), report time and RSS. */
import { readFileSync } from 'node:fs'
import { loadConfig } from '../src/config/index.ts'
import { startNode } from '../src/node/index.ts'

const dir = process.argv[2]
const t0 = performance.now()
const node = await startNode(
  loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
  { rebuild: true },
)
const startMs = performance.now() - t0
global.gc?.()
const status = await node.api.status()
const rssMb = process.memoryUsage().rss / 2 ** 20
// RSS splits into anonymous memory (heap, native) and file pages (code, LevelDB's mmap'd table
// files: clean page cache the OS can drop), reported apart.
const statusKb = (name: string) =>
  Number(
    /(\d+) kB/.exec(
      readFileSync('/proc/self/status', 'utf8')
        .split('\n')
        .find((l) => l.startsWith(name)) ?? '',
    )?.[1] ?? Number.NaN,
  )
const rssAnonMb = statusKb('RssAnon') / 1024
const rssFileMb = statusKb('RssFile') / 1024
await node.stop()
console.log(
  JSON.stringify({
    rebuilt: node.replay.rebuilt,
    events: node.replay.events,
    ms: node.replay.ms,
    startMs,
    rssMb,
    rssAnonMb,
    rssFileMb,
    stateHash: status.state_hash,
  }),
)
