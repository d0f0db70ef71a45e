/**
 * One catch-up measurement between two real nodes in this process (libp2p on 127.0.0.1, mDNS
 * off, LevelDB in temp dirs), for the code under ROOT — this checkout or the code at the start of
 * the issue (bench/catch-up.ts runs both in turn, in one run):
 *
 *   node bench/catch-up-child.ts ROOT bulk N    A writes N events one push each; an empty B
 *                                               connects; time until B holds all N
 *   node bench/catch-up-child.ts ROOT heal N    A and B each write N/2 while apart, then B dials
 *                                               A; time until both hold N
 *   node bench/catch-up-child.ts ROOT join N    A holds N events (written in pushes of 500, to
 *                                               reach 1,000,000 in minutes); an empty B connects;
 *                                               time until B holds all N
 *
 * Prints one JSON line: { ms, events, bytes? }. "Holds" = its status counts the events, i.e.
 * they are durably committed and were verified on the way in.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const [root, scenario, nText] = process.argv.slice(2)
const n = Number(nText)
const nodeMod = await import(pathToFileURL(join(root, 'src/node/index.ts')).href)
const configMod = await import(pathToFileURL(join(root, 'src/config/index.ts')).href)

/** BENCH_PROFILE=file: a V8 CPU profile of the catch-up phase only (not the writes before it). */
const profileFile = process.env.BENCH_PROFILE
const inspector =
  profileFile === undefined ? undefined : new (await import('node:inspector/promises')).Session()
async function profileStart(): Promise<void> {
  if (inspector === undefined) return
  inspector.connect()
  await inspector.post('Profiler.enable')
  await inspector.post('Profiler.start')
}
async function profileStop(): Promise<void> {
  if (inspector === undefined) return
  const { profile } = await inspector.post('Profiler.stop')
  const { writeFile } = await import('node:fs/promises')
  await writeFile(profileFile as string, JSON.stringify(profile))
}

const dirs: string[] = []
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function start(bootstrap: string[] = []): Promise<any> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-bench-cu-'))
  dirs.push(dir)
  const config = configMod.loadConfig({
    env: {},
    flags: {
      dataDir: dir,
      http: '127.0.0.1:0',
      mesh: true,
      mdns: false,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      // BENCH_LOG=debug (or info, …): the nodes log at that level on stderr instead of not at all.
      ...(process.env.BENCH_LOG === undefined ? {} : { logLevel: process.env.BENCH_LOG }),
      bootstrap,
    },
  })
  // Quiet: the code under test logs on stderr (the base code takes no logger and ignores it).
  const quiet = process.env.BENCH_LOG === undefined ? nodeMod.silentLogger?.() : undefined
  return nodeMod.startNode(config, quiet === undefined ? {} : { logger: quiet })
}

/** Single-event pushes, WRITERS in flight (the node's group commit may put several in one
 *  batch; each event is still its own push). Sequential pushes take minutes per run on a busy
 *  machine and change nothing about what the catch-up then moves. */
const WRITERS = 32
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function write(node: any, prefix: string, count: number): Promise<void> {
  let next = 0
  const one = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const r = await node.api.push(
        [
          {
            event_type: 'persona_update',
            target_id: `${prefix}-${i % 100}`,
            payload: { op: 'set', fields: { [`f${i}`]: `v${i}` } },
          },
        ],
        { kind: 'local', id: 'bench' },
      )
      if (r.accepted !== 1) throw new Error(`write ${i} not accepted: ${JSON.stringify(r)}`)
    }
  }
  await Promise.all(Array.from({ length: WRITERS }, one))
}

/** Pushes of JOIN_BATCH events, JOIN_WRITERS in flight: only what B then fetches is timed. */
const JOIN_BATCH = 500
const JOIN_WRITERS = 4
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function writeBatches(node: any, prefix: string, count: number): Promise<void> {
  let next = 0
  const one = async (): Promise<void> => {
    for (let start = next; start < count; start = next) {
      next = Math.min(count, start + JOIN_BATCH)
      const batch = []
      for (let i = start; i < next; i++)
        batch.push({
          event_type: 'persona_update',
          target_id: `${prefix}-${i % 1_000}`,
          payload: { op: 'set', fields: { [`f${i}`]: `v${i}` } },
        })
      const r = await node.api.push(batch, { kind: 'local', id: 'bench' })
      if (r.accepted !== batch.length) throw new Error(`batch at ${start}: ${r.accepted} of ${batch.length}`)
    }
  }
  await Promise.all(Array.from({ length: JOIN_WRITERS }, one))
}

// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
async function waitEvents(nodes: any[], count: number, deadlineMs = 120_000): Promise<void> {
  const until = Date.now() + deadlineMs
  let last = -1
  let lastMoved = Date.now()
  for (;;) {
    const s = await Promise.all(nodes.map((x) => x.api.status()))
    if (s.every((x) => x.events >= count)) return
    if (Date.now() > until) throw new Error(`timed out: ${s.map((x) => x.events).join(', ')} of ${count}`)
    // A catch-up that stops moving for STALL_MS: say what each node's mesh holds, once per stall.
    const held = s.reduce((sum, x) => sum + x.events, 0)
    if (held !== last) {
      last = held
      lastMoved = Date.now()
    } else if (Date.now() - lastMoved > STALL_MS) {
      lastMoved = Date.now()
      for (const x of [...nodes, ...others])
        console.error(
          JSON.stringify({
            stalled: x.peerId,
            events: (await x.api.status()).events,
            stats: x.network?.stats,
            peers: x.network?.peers(),
          }),
        )
    }
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** No progress for this long is printed as a stall (stderr), with both nodes' mesh counters. */
const STALL_MS = 30_000
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
const others: any[] = []

/** Reconciliation bytes (both directions) of the sessions either node ran, where the code has
 *  reconciliation (the code at the start of the issue has none). */
// biome-ignore lint/suspicious/noExplicitAny: either version of RunningNode
function reconcileBytes(nodes: any[]): number | undefined {
  let total: number | undefined
  for (const node of nodes)
    for (const p of node.network?.peers() ?? [])
      if (p.lastReconcile !== undefined) total = (total ?? 0) + p.lastReconcile.bytes
  return total
}

try {
  let ms: number
  let bytes: number | undefined
  if (scenario === 'bulk' || scenario === 'join') {
    const a = await start()
    others.push(a)
    if (scenario === 'join') await writeBatches(a, 'a', n)
    else await write(a, 'a', n)
    await profileStart()
    const t0 = performance.now()
    const b = await start([a.listenAddrs.find((x: string) => x.includes('/ip4/127.0.0.1/'))])
    await waitEvents([b], n, Math.max(120_000, n))
    ms = performance.now() - t0
    await profileStop()
    bytes = reconcileBytes([a, b])
    await b.stop()
    await a.stop()
  } else {
    const a = await start()
    const b = await start()
    await write(a, 'a', n / 2)
    await write(b, 'b', n / 2)
    await profileStart()
    const t0 = performance.now()
    await b.network.dial(a.listenAddrs.find((x: string) => x.includes('/ip4/127.0.0.1/')))
    await waitEvents([a, b], n)
    ms = performance.now() - t0
    await profileStop()
    bytes = reconcileBytes([a, b])
    await b.stop()
    await a.stop()
  }
  console.log(JSON.stringify({ ms, events: n, bytes }))
} finally {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
}
