/**
 * The README's three-node star, reconnect to converged: nodes 2 and 3 bootstrap from node 1
 * (real nodes in this process: LevelDB, engine, HTTP, mesh; 127.0.0.1, mDNS off). Node 3 is cut
 * off (restarted with its mesh off), writes one event, and is started again with its mesh on;
 * the figure is the time from that start to the event being stored on node 2.
 *
 * The same scenario runs on this checkout's code and, in the same run, on a baseline git
 * revision (`BENCH_STAR_BASELINE`, default the commit before peer exchange and relay), whose
 * `src/` is extracted with `git archive` into a temp directory that shares this checkout's
 * node_modules:
 *
 *   npm run bench -- star                          # 5 runs each
 *   BENCH_STAR_RUNS=3 BENCH_STAR_BASELINE=main npm run bench -- star
 *   BENCH_STAR_BASELINE= npm run bench -- star     # this code only
 */
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fmt, summarize } from './stats.ts'

/** The last commit before peer exchange, relay and held cursors (branch converge-det). */
const BASELINE_DEFAULT = '1decfc6'
/** A run whose write has not reached node 2 by then is recorded as this (the baseline's
 *  catch-up timer is 30 s, so it is never reached unless something is broken). */
const DEADLINE_MS = 60_000

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface Code {
  readonly label: string
  readonly root: string
}

// biome-ignore lint/suspicious/noExplicitAny: the modules of two revisions, used through the calls both have
type Any = any

async function load(code: Code): Promise<{ loadConfig: Any; startNode: Any }> {
  const config = await import(join(code.root, 'src/config/index.ts'))
  const node = await import(join(code.root, 'src/node/index.ts'))
  return { loadConfig: config.loadConfig, startNode: node.startNode }
}

async function until(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms
  while (performance.now() < end) {
    if (await cond()) return true
    await new Promise((r) => setTimeout(r, 10))
  }
  return false
}

const connected = (n: Any, peerId: string): boolean =>
  (n.network?.peers() ?? []).some((p: Any) => p.peerId === peerId && p.connected)

/** One run of the scenario; returns ms from node 3's reconnect to the write on node 2. */
async function starRun(code: Code): Promise<{ ms: number; meshed: boolean }> {
  const { loadConfig, startNode } = await load(code)
  const dirs = await Promise.all([1, 2, 3].map(() => mkdtemp(join(tmpdir(), 'gkm-star-'))))
  const running: Any[] = []
  const start = async (i: number, opts: { bootstrap: string[]; port: number; mesh: boolean }) => {
    const config = loadConfig({
      env: {},
      flags: {
        dataDir: dirs[i],
        http: '127.0.0.1:0',
        mesh: opts.mesh,
        mdns: false,
        listen: [`/ip4/127.0.0.1/tcp/${opts.port}`],
        bootstrap: opts.bootstrap,
      },
    })
    const n = await startNode(config)
    running[i] = n
    return n
  }
  const addrOf = (n: Any): string => n.listenAddrs.find((a: string) => a.startsWith('/ip4/127.0.0.1/'))
  const portOf = (n: Any): number => Number(/\/tcp\/(\d+)\//.exec(addrOf(n))?.[1])
  try {
    const n1 = await start(0, { bootstrap: [], port: 0, mesh: true })
    const a1 = addrOf(n1)
    const n2 = await start(1, { bootstrap: [a1], port: 0, mesh: true })
    let n3 = await start(2, { bootstrap: [a1], port: 0, mesh: true })
    const port3 = portOf(n3)
    if (!(await until(() => connected(n2, n1.peerId) && connected(n3, n1.peerId), 20_000)))
      throw new Error('2 and 3 did not connect to 1')
    // The steady state of the code: with peer exchange 2 and 3 connect; without, they never do.
    const meshed = await until(() => connected(n2, n3.peerId) && connected(n3, n2.peerId), 5_000)
    await n3.stop()
    n3 = await start(2, { bootstrap: [a1], port: port3, mesh: false })
    const r = await n3.api.push(
      [{ event_type: 'persona_update', target_id: 'star', payload: { op: 'set', fields: { from: 3 } } }],
      { kind: 'local', id: 'bench' },
    )
    if (r.accepted !== 1) throw new Error('the write on 3 was not accepted')
    const before = (await n2.api.status()).events
    await n3.stop()
    const t0 = performance.now()
    n3 = await start(2, { bootstrap: [a1], port: port3, mesh: true })
    const ok = await until(async () => (await n2.api.status()).events === before + 1, DEADLINE_MS)
    return { ms: ok ? performance.now() - t0 : DEADLINE_MS, meshed }
  } finally {
    for (const n of running.reverse()) await n?.stop().catch(() => {})
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  }
}

async function baselineCode(rev: string): Promise<{ code: Code; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gkm-star-base-'))
  const tar = execFileSync('git', ['-C', ROOT, 'archive', rev, 'src', 'package.json'], {
    maxBuffer: 256 * 1024 * 1024,
  })
  execFileSync('tar', ['-x', '-C', dir], { input: tar })
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
  return {
    code: { label: `baseline ${rev}`, root: dir },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

export async function benchStar(): Promise<Record<string, unknown>> {
  const runs = Number(process.env.BENCH_STAR_RUNS ?? 5)
  const rev = process.env.BENCH_STAR_BASELINE ?? BASELINE_DEFAULT
  const codes: Code[] = [{ label: 'this code', root: ROOT }]
  let cleanup = async () => {}
  if (rev !== '') {
    const b = await baselineCode(rev)
    codes.unshift(b.code)
    cleanup = b.cleanup
  }
  const out: Record<string, unknown> = { runs, deadlineMs: DEADLINE_MS }
  try {
    for (const code of codes) {
      const ms: number[] = []
      const meshed: boolean[] = []
      for (let i = 0; i < runs; i++) {
        const r = await starRun(code)
        ms.push(r.ms)
        meshed.push(r.meshed)
        console.log(`star (${code.label}) run ${i + 1}: ${fmt(r.ms)} ms; 2-3 connected: ${r.meshed}`)
      }
      const s = summarize(ms)
      console.log(
        `star (${code.label}): reconnect of 3 -> write on 2, median ${fmt(s.median)} ms (${fmt(s.min)} .. ${fmt(s.max)}), ` +
          `2-3 connected in ${meshed.filter(Boolean).length}/${runs} runs`,
      )
      out[code.label] = { ...s, ms: ms.map(Math.round), meshedRuns: meshed.filter(Boolean).length }
    }
  } finally {
    await cleanup()
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStar()
