/**
 * kill -9 at a random point of an operation (ingest, catch-up, rebuild, resolve, rollback), then check
 * what a restart finds: every acknowledged event is stored, and the state hash equals a rebuild
 * from the log. One round per call, seeded; used by test/integration/crash-random.test.ts (a few
 * rounds) and bench/crash.ts (`npm run crash`, 50+ rounds).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { eventToJson, fieldsFromJson } from '../../src/core/event.ts'
import { digestOf, encodeSigned } from '../../src/core/event-codec.ts'
import { startNode } from '../../src/node/index.ts'
import { makeEvent, testSigner } from './events.ts'
import { postJson } from './node.ts'
import { nodeConfig } from './store-files.ts'

export const CRASH_OPS = ['ingest', 'catchup', 'rebuild', 'resolve', 'rollback'] as const
export type CrashOp = (typeof CRASH_OPS)[number]

const CHILD = new URL('./node-child.ts', import.meta.url).pathname
/** Bounds: a node starts within this, and every loop of a round ends by itself. */
const START_TIMEOUT_MS = 60_000
const ROUND_REQUESTS_MAX = 400
/** Opening the store and rebuilding 6,000 events takes ~0.5-2 s here (more under load). */
const REBUILD_KILL_WINDOW_MS = 1500

/** mulberry32: a small seeded PRNG (tests print the seed). */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface CrashRound {
  readonly seed: number
  readonly op: CrashOp
  /** When the kill came, ms after the operation's process was spawned. */
  readonly killAfterMs: number
  /** True when the kill came before the node served (during start-up, i.e. the rebuild). */
  readonly killedBeforeReady: boolean
  /** True when the restart had to rebuild: the kill landed inside a rebuild. */
  readonly restartRebuilt: boolean
  /** Events acknowledged before the kill (setup included). */
  readonly acked: number
  /** Acknowledged events missing after the restart (must be 0). */
  readonly lost: number
  readonly stored: number
  /** State hash after the restart, and after a rebuild from the log (must be equal). */
  readonly stateHash: string
  readonly rebuiltHash: string
  readonly ms: number
}

interface Child {
  readonly child: ChildProcess
  readonly url: Promise<string>
  /** Its loopback mesh address (with --mesh), once it serves. */
  readonly addr: Promise<string | undefined>
  /** Events the node replayed at start (a rebuild), once it serves. */
  readonly replayed: Promise<number>
  /** Resolves when the child has loaded its modules and begins to start the node. */
  readonly starting: Promise<void>
}

/** Node processes alive, killed if this process exits before a round's cleanup ran. */
const LIVE = new Set<ChildProcess>()
process.once('exit', () => {
  for (const c of LIVE) c.kill('SIGKILL')
})

function spawnNode(dir: string, rebuild = false, extra: readonly string[] = []): Child {
  const child = spawn(process.execPath, [CHILD, dir, ...(rebuild ? ['--rebuild'] : []), ...extra], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  LIVE.add(child)
  let markStarting: () => void = () => {}
  const starting = new Promise<void>((resolve) => {
    markStarting = resolve
  })
  child.once('exit', () => {
    LIVE.delete(child)
    markStarting()
  })
  const ready = new Promise<{ url: string; replayed: number; addr?: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node did not start in time')), START_TIMEOUT_MS)
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const msg = JSON.parse(l) as { starting?: true; url?: string; replayed?: number; addr?: string }
      if (msg.starting) return markStarting()
      clearTimeout(timer)
      resolve(msg as { url: string; replayed: number; addr?: string })
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`node exited (${code ?? signal}) before it served`))
    })
  })
  const url = ready.then((r) => r.url)
  const replayed = ready.then((r) => r.replayed)
  const addr = ready.then((r) => r.addr)
  url.catch(() => {})
  replayed.catch(() => {})
  addr.catch(() => {})
  return { child, url, addr, replayed, starting }
}

async function kill9(c: Child): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return
  const exited = new Promise((r) => c.child.once('exit', r))
  c.child.kill('SIGKILL')
  await exited
}

async function stopGracefully(c: Child): Promise<void> {
  const exited = new Promise((r) => c.child.once('exit', r))
  c.child.kill('SIGTERM')
  await exited
}

const digestOfJson = (e: unknown) => digestOf(encodeSigned(fieldsFromJson(e).fields))

async function allDigests(url: string): Promise<Set<string>> {
  const out = new Set<string>()
  let cursor: string | undefined
  for (let page = 0; page < 1000; page++) {
    const r = await postJson(`${url}/sync/pull`, { cursor, limit: 5000 })
    if (r.status !== 200) throw new Error(`pull: ${r.status} ${JSON.stringify(r.body)}`)
    for (const e of r.body.events as unknown[]) out.add(digestOfJson(e))
    cursor = r.body.next_cursor
    if (!r.body.has_more) break
  }
  return out
}

/** Pushes and remembers what was acknowledged; a connection cut by the kill ends the caller. */
async function push(url: string, events: unknown[], acked: Set<string>): Promise<boolean> {
  try {
    const r = await postJson(`${url}/sync/push`, events)
    if (r.status === 200) for (const d of r.body.digests as string[]) acked.add(d)
    else if (process.env.GKM_CRASH_DEBUG)
      console.error('push', r.status, JSON.stringify(r.body).slice(0, 300))
    return r.status === 200
  } catch (err) {
    if (process.env.GKM_CRASH_DEBUG) console.error('push failed', err)
    return false
  }
}

function localWrites(rnd: () => number, tag: string, n: number, targets: number) {
  return Array.from({ length: n }, (_, i) => ({
    event_type: rnd() < 0.8 ? 'persona_update' : 'document_update',
    target_id: `${tag}-${Math.floor(rnd() * targets)}`,
    payload:
      rnd() < 0.5
        ? { op: 'set', fields: { [`f${i % 5}`]: `${tag}-${i}-${Math.floor(rnd() * 1e6)}` } }
        : { op: 'set', fields: { a: i, b: `${tag}` } },
  })).map((e) =>
    e.event_type === 'document_update' ? { ...e, payload: { op: 'put', content: `${tag}` } } : e,
  )
}

/** Runs one seeded round in a fresh directory (removed afterwards). */
export async function crashRound(seed: number, op: CrashOp): Promise<CrashRound> {
  const t0 = Date.now()
  const rnd = prng(seed)
  const dir = await mkdtemp(join(tmpdir(), 'gkm-crash-'))
  const sourceDir = op === 'catchup' ? await mkdtemp(join(tmpdir(), 'gkm-crash-src-')) : undefined
  const children: Child[] = []
  let bootstrap: string[] = []
  try {
    const acked = new Set<string>()
    // Setup: everything here is acknowledged before the kill.
    const setup = spawnNode(dir)
    children.push(setup)
    const url0 = await setup.url
    const conflictTargets: string[] = []
    const firstOf = new Map<string, string>()
    if (op === 'rebuild') {
      for (let b = 0; b < 6; b++) await push(url0, localWrites(rnd, `r${b}`, 1000, 400), acked)
    } else if (op === 'resolve') {
      const [a, b] = [testSigner(61), testSigner(62)]
      const now = Date.now() - 60_000
      for (let chunk = 0; chunk < 2; chunk++) {
        const events: unknown[] = []
        for (let i = 0; i < 100; i++) {
          const target = `c-${chunk}-${i}`
          const hlc = (k: number) => ({ wallMs: now + chunk * 1000 + i, counter: k })
          const base = makeEvent(a, { target, hlc: hlc(0), payload: { op: 'set', fields: { t: 'base' } } })
          const ea = makeEvent(a, {
            target,
            hlc: hlc(1),
            parents: [base.digest],
            payload: { op: 'set', fields: { t: 'a' } },
          })
          const eb = makeEvent(b, {
            target,
            hlc: hlc(2),
            parents: [base.digest],
            payload: { op: 'set', fields: { t: 'b' } },
          })
          events.push(...[base, ea, eb].map(eventToJson))
          conflictTargets.push(target)
        }
        if (!(await push(url0, events, acked))) throw new Error('setup push failed')
      }
    } else if (op === 'catchup') {
      // A peer holding 4,000 events the node does not have: the node reconciles with it as soon
      // as it starts, while clients push to it; the kill lands during that catch-up.
      const source = spawnNode(sourceDir as string, false, ['--mesh'])
      children.push(source)
      const srcUrl = await source.url
      for (let b = 0; b < 8; b++) {
        const r = await postJson(`${srcUrl}/sync/push`, localWrites(rnd, `s${b}`, 500, 300))
        if (r.status !== 200) throw new Error(`source push: ${r.status}`)
      }
      bootstrap = ['--bootstrap', (await source.addr) as string]
    } else if (op === 'rollback') {
      for (let v = 0; v < 3; v++) {
        const events = Array.from({ length: 200 }, (_, i) => ({
          event_type: 'persona_update',
          target_id: `rb-${i}`,
          payload: { op: 'set', fields: { v, [`x${v}`]: i } },
        }))
        const r = await postJson(`${url0}/sync/push`, events)
        if (r.status !== 200) throw new Error(`setup push: ${r.status}`)
        ;(r.body.digests as string[]).forEach((d, i) => {
          acked.add(d)
          if (v === 0) firstOf.set(`rb-${i}`, d)
        })
      }
    }
    await stopGracefully(setup)

    // The operation, killed at a random point.
    // A rebuild is killed within REBUILD_KILL_WINDOW_MS of the moment its process begins to
    // start the node (store open, then the rebuild); the others after their first ack.
    const killAfterMs = Math.floor(rnd() * (op === 'rebuild' ? REBUILD_KILL_WINDOW_MS : 1500)) + 20
    const node = spawnNode(dir, op === 'rebuild', bootstrap)
    children.push(node)
    const began = Date.now()
    let readyMs: number | undefined
    node.url.then(
      () => {
        readyMs = Date.now() - began
      },
      () => {},
    )
    let killed = false
    const setupAcked = acked.size
    const killer = (async () => {
      // Ingest, resolve and rollback are killed after their first acknowledgement (bounded
      // wait); a rebuild at a random time after the process started.
      if (op !== 'rebuild') {
        await node.url.catch(() => {})
        const deadline = Date.now() + START_TIMEOUT_MS
        while (acked.size === setupAcked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
      } else await node.starting
      await new Promise((r) => setTimeout(r, killAfterMs))
      killed = true
      await kill9(node)
    })()
    if (op !== 'rebuild') {
      const url = await node.url
      const workers = Array.from({ length: 3 }, async (_, w) => {
        for (let k = 0; k < ROUND_REQUESTS_MAX && !killed; k++) {
          if (op === 'ingest' || op === 'catchup') {
            if (!(await push(url, localWrites(rnd, `w${w}`, 1 + Math.floor(rnd() * 300), 500), acked))) return
          } else if (op === 'resolve') {
            const target = conflictTargets[(w + 3 * k) % conflictTargets.length]
            try {
              const state = await postJson(`${url}/sync/pull`, { limit: 1 }) // keeps reads in the mix
              if (state.status !== 200) return
              const view = await fetch(`${url}/state/persona_update/${target}`)
              if (view.status !== 200) return
              const open = ((await view.json()) as { open_conflicts: string[] }).open_conflicts
              if (open.length === 0) continue
              const strategy = (['prefer_local', 'prefer_remote', 'manual_merge'] as const)[k % 3]
              const r = await postJson(`${url}/sync/resolve-conflict`, {
                conflictId: open[0],
                resolutionStrategy: strategy,
                ...(strategy === 'manual_merge' ? { value: `m${k}` } : {}),
              })
              if (r.status === 200) acked.add(digestOfJson(r.body.event))
            } catch {
              return
            }
          } else {
            const target = `rb-${(w * 67 + k) % 200}`
            try {
              const r = await postJson(`${url}/sync/rollback`, {
                event_type: 'persona_update',
                target_id: target,
                to_event: firstOf.get(target),
              })
              if (r.status === 200) acked.add(digestOfJson(r.body.event))
            } catch {
              return
            }
          }
        }
      })
      await Promise.all(workers)
    }
    await killer
    const killedAfterMs = Date.now() - began
    const killedBeforeReady = readyMs === undefined

    // Restart: every acknowledged event is there; the state equals a rebuild from the log.
    const after = spawnNode(dir)
    children.push(after)
    const url = await after.url
    // A kill that landed inside a rebuild leaves no state hash (it is cleared first and written
    // last), so this start rebuilds again.
    const restartRebuilt = (await after.replayed) > 0
    const stored = await allDigests(url)
    let lost = 0
    for (const d of acked) if (!stored.has(d)) lost++
    const status = (await (await fetch(`${url}/status`)).json()) as { state_hash: string }
    await stopGracefully(after)
    const rebuilt = await startNode(nodeConfig(dir), { rebuild: true })
    let rebuiltHash: string
    try {
      rebuiltHash = (await rebuilt.api.status()).state_hash
    } finally {
      await rebuilt.stop()
    }
    return {
      seed,
      op,
      killAfterMs: killedAfterMs,
      killedBeforeReady,
      restartRebuilt,
      acked: acked.size,
      lost,
      stored: stored.size,
      stateHash: status.state_hash,
      rebuiltHash,
      ms: Date.now() - t0,
    }
  } finally {
    for (const c of children) await kill9(c)
    if (sourceDir !== undefined) await rm(sourceDir, { recursive: true, force: true })
    await rm(dir, { recursive: true, force: true })
  }
}
