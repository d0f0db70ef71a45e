/**
 * The run itself, inside the lab's hub namespace (started by main.ts with `ip netns exec`): it
 * starts the node processes, the delay proxy (WAN), the observers and the writer, injects the
 * scenario's faults at their times, heals, waits for convergence, checks, stops every node, and
 * writes the JSON result and the HTML report. Progress goes to the terminal every 2 s.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { peerIdFromAuthorKey } from '../../src/net/peer-files.ts'
import { loadOrCreateIdentity } from '../../src/util/identity-file.ts'
import { Rng } from '../rng.ts'
import { parseRunArgs, RUN_OPTIONS, reproduceCommand } from './args.ts'
import {
  delaysOf,
  type ObservedEvent,
  recordArrivals,
  STARTUP_WINDOW_MS,
  slowThresholdMs,
  splitAtStartup,
} from './arrivals.ts'
import { hostCpuS, processCpuS } from './cpu.ts'
import { DelayProxy } from './delay-proxy.ts'
import { HUB_IP, type LabSpec } from './lab.ts'
import { applyBandwidth, applyNft, nftScript, PROFILES, pairKey, proxyPort } from './netfaults.ts'
import { NodeProc, type NodeSpec, nodeConfig } from './node-proc.ts'
import { NodeView } from './observer.ts'
import { FOUR_PEERS_GATE_TEXT, fourPeersUnmet, GATE_TEXT, hasFourPeers, meshUnformed } from './readiness.ts'
import { renderRealReport } from './report.ts'
import {
  type FaultSpan,
  histogram,
  percentiles,
  type RealRunResult,
  resultJson,
  type Sample,
} from './result.ts'
import { type Action, findScenario, planFor, resolveScenario } from './scenarios.ts'

/** How long the mesh may take to form before the writes start (nodes start on a loaded CPU). */
const MESH_TIMEOUT_MS = 120_000
/** How often the gate asks every node's /peers while the mesh forms. */
const MESH_POLL_MS = 250
/** Each node's /metrics is read this often (counters for the result). */
const METRICS_POLL_MS = 10_000
/** A write not answered within this long counts as unanswered (not acknowledged; a loaded node
 *  may still store it). */
const WRITE_TIMEOUT_MS = 15_000
/** Writes in flight at most (the writer is bounded in count, time and concurrency). */
const WRITES_IN_FLIGHT_MAX = 256
const TARGETS = 40

const { values } = parseArgs({ options: { ...RUN_OPTIONS, lab: { type: 'string' } }, strict: true })
const args = parseRunArgs(values)
const lab = JSON.parse(values.lab!) as LabSpec
const base = findScenario(args.scenario)!
const s = resolveScenario(base, args.overrides)
const profile = PROFILES[s.profile]
const plan = planFor(s, args.seed)
const command = reproduceCommand(args)
const t = () => performance.now()
const say = (line: string) => process.stdout.write(`${line}\n`)

const outDir = resolve(args.out)
mkdirSync(outDir, { recursive: true })
/** The run's files: `<outBase>.json`, `.html`, and with --node-logs `-n<i>.log`. */
const outBase = join(outDir, `real-${s.name}-${s.profile}-n${s.nodes}-seed${args.seed}`)
if (args.nodeLogs) for (let i = 0; i < s.nodes; i++) rmSync(`${outBase}-n${i}.log`, { force: true })
/** With --cpu-prof: the nodes' CPU profiles (one per life). */
const profDir = args.cpuProf ? `${outBase}-prof` : undefined
if (profDir !== undefined) {
  rmSync(profDir, { recursive: true, force: true })
  mkdirSync(profDir, { recursive: true })
}
const runDir = mkdtempSync(join(tmpdir(), 'gkm-real-'))
const procs: NodeProc[] = []
let proxy: DelayProxy | undefined
let aborted = false

const emergencyStop = (why: string) => {
  if (aborted) return
  aborted = true
  say(`\nstopping (${why}): killing ${procs.length} nodes`)
  for (const p of procs) p.killNow()
  proxy?.close()
  if (!args.keep) rmSync(runDir, { recursive: true, force: true })
  process.exit(130)
}
process.on('SIGINT', () => emergencyStop('SIGINT'))
process.on('SIGTERM', () => emergencyStop('SIGTERM'))

const wallStart = t()
const loadavgStart = loadavg().map((x) => Math.round(x * 100) / 100)
say(`real-node run: ${s.name} — ${s.description}`)
say(
  `  ${s.nodes} nodes (${lab.prefix}-n0..${s.nodes - 1}), profile ${profile.name}` +
    `${profile.delayMs > 0 ? ` (${profile.delayMs} ms each way, ${profile.lossPerMille / 10} % loss, ${profile.rateMbit} Mbit/s)` : ''}, ` +
    `${s.rate} events/s for ${s.writeMs / 1000} s, seed ${args.seed}; load average ${loadavgStart.join(' ')} on ${cpus().length} CPUs`,
)

// --- identities, configs, processes ------------------------------------------------------
const specs: NodeSpec[] = []
for (let i = 0; i < s.nodes; i++) {
  const dir = join(runDir, `n${i}`)
  mkdirSync(join(dir, 'data'), { recursive: true })
  const id = await loadOrCreateIdentity(join(dir, 'data'), { create: true })
  const publicKey = Buffer.from(id.publicKey).toString('hex')
  specs.push({
    index: i,
    ns: lab.nodes[i],
    ip: lab.ips[i],
    dir,
    publicKey,
    peerId: peerIdFromAuthorKey(publicKey),
    token: randomBytes(16).toString('hex'),
  })
}
const members = specs.map((x) => x.publicKey)
for (const spec of specs) {
  const bootstrap =
    profile.name === 'wan'
      ? specs
          .filter((o) => o.index !== spec.index)
          .map((o) => `/ip4/${HUB_IP}/tcp/${proxyPort(spec.index, o.index)}/p2p/${o.peerId}`)
      : []
  const logLevel = args.nodeLogs ? 'debug' : 'warn'
  procs.push(
    new NodeProc(
      spec,
      nodeConfig({ spec, members, mdns: profile.name === 'lan', bootstrap, logLevel }),
      s.skew,
      args.nodeLogs ? `${outBase}-n${spec.index}.log` : undefined,
      profDir,
    ),
  )
}

// --- network -------------------------------------------------------------------------------
const dropped = new Set<string>()
const applyNet = () =>
  Promise.all(procs.map((p, i) => applyNft(p.spec.ns, nftScript(i, s.nodes, profile, dropped))))
await applyNet()
for (const p of procs) applyBandwidth(p.spec.ns, profile.rateMbit)
if (profile.delayMs > 0) proxy = await DelayProxy.start(s.nodes, profile.delayMs)

// --- observers -----------------------------------------------------------------------------
const acked = new Map<string, { origin: number; at: number; sentAt: number }>()
const views = procs.map((p) => new NodeView(p))

say(`starting ${s.nodes} nodes…`)
const startupAt = t()
await Promise.all(procs.map((p) => p.start()))
for (const v of views) v.follow()
// The writes start once the mesh is formed (readiness.ts says what that is, and why); when every
// node first had 4 peers (the earlier gate) is kept as a measurement.
const runPeerIds = specs.map((x) => x.peerId)
let fourPeersMs: number | null = null
const formed = async (): Promise<string> => {
  const lists = await Promise.all(views.map((v) => v.peerRows()))
  if (fourPeersMs === null && hasFourPeers(lists, s.nodes)) fourPeersMs = Math.round(t() - startupAt)
  return args.gate === 'four-peers' ? fourPeersUnmet(lists, runPeerIds) : meshUnformed(lists, runPeerIds)
}
const gateText = args.gate === 'four-peers' ? FOUR_PEERS_GATE_TEXT : GATE_TEXT
let why = await formed()
let toldAt = t()
while (why !== '') {
  if (t() - toldAt >= 5_000) {
    toldAt = t()
    say(`  [${((t() - startupAt) / 1000).toFixed(0)} s] mesh not formed yet: ${why}`)
  }
  if (t() - startupAt > MESH_TIMEOUT_MS) {
    for (const p of procs) p.killNow()
    say(`FAILED: the mesh did not form within ${MESH_TIMEOUT_MS / 1000} s (${gateText}): ${why}`)
    say(procs.map((p) => `--- node ${p.spec.index}\n${p.log}`).join('\n'))
    process.exit(1)
  }
  await new Promise((r) => setTimeout(r, MESH_POLL_MS))
  why = await formed()
}
const startupMs = Math.round(t() - startupAt)
say(
  `mesh formed in ${(startupMs / 1000).toFixed(1)} s (${gateText}; every node had 4 peers at ${fourPeersMs === null ? '?' : (fourPeersMs / 1000).toFixed(1)} s); writing`,
)

// --- the run -------------------------------------------------------------------------------
const t0 = t()
/** Wall-clock time of t0, to line the run up with the nodes' logs (pino `time`). */
const t0Epoch = Date.now()
/** CLOCK_MONOTONIC of t0 (µs), the clock of V8's CPU profiles. */
const t0MonotonicUs = Number(process.hrtime.bigint() / 1000n)
const since = () => t() - t0
const faults: FaultSpan[] = []
const open = new Map<string, FaultSpan>()
const openSpan = (key: string, kind: string, label: string) => {
  closeSpan(key)
  const span = { kind, label, fromMs: Math.round(since()), toMs: -1 }
  open.set(key, span)
  faults.push(span)
}
const closeSpan = (key: string) => {
  const span = open.get(key)
  if (span !== undefined) span.toMs = Math.round(since())
  open.delete(key)
}
let restarts = 0
const starting = new Set<Promise<void>>()

async function apply(a: Action): Promise<void> {
  switch (a.kind) {
    case 'partition':
      dropped.clear()
      for (const g of a.groups)
        for (const h of a.groups)
          if (g !== h) for (const x of g) for (const y of h) dropped.add(pairKey(x, y))
      await applyNet()
      openSpan('net', 'partition', a.groups.map((g) => g.join(',')).join(' | '))
      break
    case 'one-way':
      dropped.clear()
      for (const x of a.from) for (const y of a.to) dropped.add(pairKey(x, y))
      await applyNet()
      openSpan('net', 'one-way', `${a.from.join(',')} → ${a.to.join(',')} dropped`)
      break
    case 'links-down':
      dropped.clear()
      for (const [x, y] of a.pairs) {
        dropped.add(pairKey(x, y))
        dropped.add(pairKey(y, x))
      }
      await applyNet()
      openSpan('net', 'links-down', `${a.pairs.length} links down`)
      break
    case 'heal':
      dropped.clear()
      await applyNet()
      closeSpan('net')
      break
    case 'kill':
      if (procs[a.node].state === 'down') break
      openSpan(`node${a.node}`, 'crash', `node ${a.node}: kill -9`)
      await procs[a.node].kill9()
      break
    case 'restart': {
      if (procs[a.node].state !== 'down') break
      restarts++
      // In the background: a start takes seconds on a loaded machine, and the plan's next
      // faults keep their times.
      const started = procs[a.node].start().then(
        () => {
          views[a.node].follow()
          closeSpan(`node${a.node}`)
        },
        (err: Error) => {
          // A kill -9 that lands during the start-up is part of the plan, not a failure.
          if (!/exited \(SIGKILL\)/.test(err.message))
            say(`  node ${a.node} failed to restart: ${err.message.slice(0, 500)}`)
          else say(`  node ${a.node} killed during its start-up`)
        },
      )
      starting.add(started)
      void started.finally(() => starting.delete(started))
      break
    }
    case 'pause':
      if (procs[a.node].state !== 'up') break
      openSpan(`node${a.node}`, 'pause', `node ${a.node}: SIGSTOP`)
      procs[a.node].pause()
      break
    case 'resume':
      procs[a.node].resume()
      closeSpan(`node${a.node}`)
      break
    case 'skew':
      procs[a.node].setOffset(a.offsetS)
      if (a.offsetS === 0) closeSpan(`skew${a.node}`)
      else
        openSpan(`skew${a.node}`, 'skew', `node ${a.node}: clock ${a.offsetS > 0 ? '+' : ''}${a.offsetS} s`)
      break
  }
}

const planned = Math.floor((s.rate * s.writeMs) / 1000)
const writes = { planned, sent: 0, acked: 0, failed: 0, unanswered: 0 }
let inFlight = 0
const wrng = new Rng(args.seed, `real:${s.name}:writes`)
const writeOne = async (k: number) => {
  const live = procs.filter((p) => p.state === 'up')
  if (live.length === 0) {
    writes.failed++
    return
  }
  const p = live[wrng.int(live.length)]
  const body = [
    {
      event_type: 'persona_update',
      target_id: `p${wrng.int(TARGETS)}`,
      payload: { op: 'set', fields: { k, by: p.spec.index } },
    },
  ]
  writes.sent++
  inFlight++
  const sentAt = t()
  try {
    const res = await fetch(`${p.url}/sync/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${p.spec.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(WRITE_TIMEOUT_MS),
    })
    const answer = (await res.json()) as { accepted?: number; digests?: string[] }
    if (res.ok && answer.accepted === 1 && answer.digests?.length === 1) {
      writes.acked++
      acked.set(answer.digests[0], { origin: p.spec.index, at: t(), sentAt })
    } else writes.failed++
  } catch {
    writes.unanswered++
  } finally {
    inFlight--
  }
}

const writer = (async () => {
  const gap = 1000 / s.rate
  let k = 0
  while (k < planned && !aborted) {
    const due = t0 + k * gap
    if (t() < due) {
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(20, due - t()))))
      continue
    }
    if (inFlight >= WRITES_IN_FLIGHT_MAX) {
      await new Promise((r) => setTimeout(r, 5))
      continue
    }
    void writeOne(k++)
  }
  while (inFlight > 0) await new Promise((r) => setTimeout(r, 20))
})()

const samples: Sample[] = []
/** CPU at the previous sample: per node process (by PID: a restarted node is a new process),
 *  and the host's busy / total time. */
const cpuBefore = new Map<number, number>()
let hostBefore = hostCpuS()
let sampledAt = t()
const cpuSince = (): { nodesCpu: number; hostBusy: number } => {
  let used = 0
  for (const p of procs) {
    const pid = p.pid
    if (pid === undefined) continue
    const now = processCpuS(pid)
    used += Math.max(0, now - (cpuBefore.get(pid) ?? now))
    cpuBefore.set(pid, now)
  }
  const host = hostCpuS()
  const total = host.total - hostBefore.total
  const hostBusy = total > 0 ? (host.busy - hostBefore.busy) / total : 0
  hostBefore = host
  const wallS = Math.max(0.001, (t() - sampledAt) / 1000)
  sampledAt = t()
  return { nodesCpu: Math.round((used / wallS) * 100) / 100, hostBusy: Math.round(hostBusy * 100) / 100 }
}
cpuSince()
const union = () => {
  const u = new Set<string>()
  for (const v of views) if (v.node.state === 'up') for (const d of v.held) u.add(d)
  return u
}
const sample = () => {
  const live = views.filter((v) => v.node.state === 'up')
  const u = union()
  const size = Math.max(1, u.size)
  samples.push({
    t: Math.round(since()),
    complete: live.length === 0 ? 0 : live.filter((v) => v.held.size >= u.size).length / live.length,
    meanShare: live.length === 0 ? 0 : live.reduce((a, v) => a + v.held.size / size, 0) / live.length,
    live: live.length,
    ...cpuSince(),
  })
}
const sampler = setInterval(sample, 500)
// Light polling: the nodes share the CPU with the driver.
const poller = setInterval(() => {
  for (const v of views) void v.pollStatus()
}, 2_000)
// Each node's /metrics is read every 10 s, the nodes spread over the 10 s: read all at once, the
// ten renders (prom-client's default collectors) made a CPU burst of the harness's own.
const metricsPollers = views.map((v, i) =>
  setTimeout(
    () => {
      void v.pollMetrics()
      metricsPollers[i] = setInterval(() => void v.pollMetrics(), METRICS_POLL_MS)
    },
    ((i + 0.5) * METRICS_POLL_MS) / views.length,
  ),
)
const progress = setInterval(() => {
  const up = procs.filter((p) => p.state === 'up').length
  const sizes = views.filter((v) => v.node.state === 'up').map((v) => v.held.size)
  const hashes = new Set(
    views.filter((v) => v.node.state === 'up' && v.status).map((v) => v.status!.state_hash),
  )
  const faultNow = [...open.values()].map((f) => f.label).join('; ')
  say(
    `[${(since() / 1000).toFixed(0).padStart(4)} s] writes ${writes.sent}/${planned} acked ${writes.acked}` +
      ` | up ${up}/${s.nodes} | held ${sizes.length > 0 ? Math.min(...sizes) : 0}..${Math.max(0, ...sizes)}` +
      ` | ${hashes.size} state hash${hashes.size === 1 ? '' : 'es'}${faultNow ? ` | ${faultNow}` : ''}`,
  )
}, 2_000)

for (const a of plan) {
  const wait = t0 + a.at - t()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  if (aborted) break
  await apply(a)
}
await writer
// The final heal: every link up, every node running.
const healAt = Math.max(since(), 0)
await Promise.all(starting)
const healed: Promise<void>[] = []
if (dropped.size > 0) healed.push(apply({ at: 0, kind: 'heal' }))
for (const p of procs) {
  if (p.state === 'paused') healed.push(apply({ at: 0, kind: 'resume', node: p.spec.index }))
  if (p.state === 'down') healed.push(apply({ at: 0, kind: 'restart', node: p.spec.index }))
}
await Promise.all(healed)
await Promise.all(starting)
say(
  `[${(since() / 1000).toFixed(0).padStart(4)} s] writes done and healed; waiting for convergence (budget ${s.budgetMs / 1000} s)`,
)

let convergedAt: number | null = null
const deadline = t0 + healAt + s.budgetMs
while (t() < deadline && !aborted) {
  const live = views.filter((v) => v.node.state === 'up')
  if (live.length === s.nodes) {
    const u = union()
    const ok =
      live.every((v) => v.held.size === u.size) && [...acked.keys()].every((d) => live[0].held.has(d))
    if (ok) {
      const at = since()
      const statuses = await Promise.all(live.map((v) => v.pollStatus()))
      if (
        statuses.every((st) => st !== undefined && st.events === u.size) &&
        new Set(statuses.map((st) => st!.state_hash)).size === 1
      ) {
        convergedAt = at
        break
      }
    }
  }
  await new Promise((r) => setTimeout(r, 100))
}
sample()
clearInterval(sampler)
clearInterval(poller)
clearInterval(progress)
for (const m of metricsPollers) clearInterval(m)
await Promise.all(views.map((v) => v.pollMetrics()))
const finalStatus = await Promise.all(views.map((v) => v.pollStatus()))
const endAt = Math.round(since())
for (const span of open.values()) span.toMs = endAt
for (const f of faults) if (f.toMs < 0) f.toMs = endAt

// --- checks --------------------------------------------------------------------------------
const live = views.filter((v) => v.node.state === 'up')
const u = union()
const lost = [...acked.keys()].filter((d) => live.some((v) => !v.held.has(d)))
const hashes = new Set(finalStatus.filter((x) => x !== undefined).map((x) => x!.state_hash))
const checks = [
  {
    name: 'converged',
    ok: convergedAt !== null,
    detail:
      convergedAt === null
        ? `not within ${s.budgetMs / 1000} s of the heal`
        : `${((convergedAt - healAt) / 1000).toFixed(2)} s after the heal`,
  },
  {
    name: 'no acknowledged event lost',
    ok: lost.length === 0 && live.length === s.nodes,
    detail: `${acked.size} acknowledged, ${lost.length} missing on some live node${lost.length > 0 && convergedAt === null ? ' (not converged: not arrived yet, or lost)' : ''}; ${live.length}/${s.nodes} nodes live`,
  },
  {
    name: 'one event set',
    ok: live.every((v) => v.held.size === u.size),
    detail: `sizes ${live.map((v) => v.held.size).join(', ')} of ${u.size}`,
  },
  {
    name: 'one state',
    ok: hashes.size === 1 && finalStatus.every((x) => x !== undefined),
    detail: `${hashes.size} distinct state hash(es)`,
  },
]
const ok = checks.every((c) => c.ok)

// --- figures -------------------------------------------------------------------------------
const delays: number[] = []
const every: number[] = []
const observed: ObservedEvent[] = []
const perEvent: Array<Array<number | null>> = []
for (const [d, a] of [...acked].sort((x, y) => x[1].sentAt - y[1].sentAt)) {
  const rel = (at: number | undefined) => (at === undefined ? undefined : at - t0)
  const e: ObservedEvent = {
    sentMs: a.sentAt - t0,
    origin: a.origin,
    originSeenMs: rel(views[a.origin].firstSeen.get(d)),
    seenMs: views.map((v) => rel(v.firstSeen.get(d))),
  }
  const ds = delaysOf(e, a.at - t0)
  observed.push(e)
  perEvent.push(ds)
  for (const x of ds) if (x !== null) delays.push(x)
  if (e.seenMs.every((x) => x !== undefined)) every.push(Math.max(0, ...ds.map((x) => x ?? 0)))
}

const split = splitAtStartup(observed, perEvent)

const result: RealRunResult = {
  kind: 'real',
  scenario: s.name,
  description: s.description,
  seed: args.seed,
  command,
  passed: ok,
  profile: { ...profile },
  nodes: s.nodes,
  rate: s.rate,
  writeMs: s.writeMs,
  clock: s.skew ? 'libfaketime (LD_PRELOAD, per-node offset file)' : 'host clock',
  plan,
  writes,
  propagation: percentiles(delays),
  propagationStartup: percentiles(split.startup),
  propagationAfterStartup: percentiles(split.after),
  startupWindowMs: STARTUP_WINDOW_MS,
  everyNode: percentiles(every),
  propagationHistogram: histogram(delays),
  arrivals: recordArrivals(observed, perEvent, s.nodes, slowThresholdMs(profile.delayMs)),
  healAtMs: Math.round(healAt),
  convergedAtMs: convergedAt === null ? null : Math.round(convergedAt),
  convergedAfterHealMs: convergedAt === null ? null : Math.round(convergedAt - healAt),
  budgetMs: s.budgetMs,
  bytesPerNode: views.map((v, node) => ({ node, sent: v.totalSent, received: v.totalReceived })),
  nodeCounters: views.map((v, node) => ({ node, ...v.totalCounters })),
  proxyBytes: proxy?.bytes ?? 0,
  statesAtEnd: finalStatus.map((st, node) => ({
    node,
    events: st?.events ?? -1,
    stateHash: st?.state_hash ?? '',
    conflictsOpen: st?.conflicts_open ?? -1,
  })),
  faults,
  samples,
  checks,
  restarts,
  load: { cpus: cpus().length, loadavgStart, loadavgEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
  wallMs: Math.round(t() - wallStart),
  startupMs,
  fourPeersMs,
  gate: gateText,
  writesStartedAtEpochMs: t0Epoch,
  writesStartedAtMonotonicUs: t0MonotonicUs,
}

// --- stop, write ---------------------------------------------------------------------------
for (const v of views) v.stop()
await Promise.all(procs.map((p) => p.stop()))
proxy?.close()
if (!ok && !args.keep)
  say(
    `(node logs, last lines)\n${procs.map((p) => `--- node ${p.spec.index}\n${p.log.slice(-1500)}`).join('\n')}`,
  )
if (!args.keep) rmSync(runDir, { recursive: true, force: true })
else say(`kept the nodes' directories in ${runDir}`)

const file = outBase
writeFileSync(`${file}.json`, resultJson(result))
writeFileSync(`${file}.html`, renderRealReport(result))
const p = result.propagation
say(
  `${ok ? 'PASSED' : 'FAILED'}: ${s.name} (${profile.name}), ${s.nodes} nodes, ${writes.acked} acknowledged of ${planned} planned writes`,
)
say(
  `  propagation (origin → other node) p50 ${p.p50} ms, p90 ${p.p90} ms, p99 ${p.p99} ms, max ${p.max} ms (${p.count} arrivals)`,
)
for (const [name, q] of [
  [`sent in the first ${STARTUP_WINDOW_MS / 1000} s (start-up)`, result.propagationStartup],
  [`sent after the first ${STARTUP_WINDOW_MS / 1000} s`, result.propagationAfterStartup],
] as const)
  say(`    ${name}: p50 ${q.p50} ms, p90 ${q.p90} ms, p99 ${q.p99} ms, max ${q.max} ms (${q.count})`)
say(`  on every node: p50 ${result.everyNode.p50} ms, p99 ${result.everyNode.p99} ms`)
say(
  `  converged ${result.convergedAfterHealMs === null ? 'NOT' : `${(result.convergedAfterHealMs / 1000).toFixed(2)} s`} after the heal (budget ${s.budgetMs / 1000} s)`,
)
say(
  `  load average ${result.load.loadavgStart.join(' ')} → ${result.load.loadavgEnd.join(' ')} on ${result.load.cpus} CPUs; wall ${(result.wallMs / 1000).toFixed(1)} s`,
)
for (const c of checks) if (!c.ok) say(`  check failed: ${c.name}: ${c.detail}`)
if (!ok) say(`  reproduce: ${command}`)
say(`result: ${file}.json`)
if (args.nodeLogs) say(`node logs: ${file}-n0.log .. -n${s.nodes - 1}.log`)
if (profDir !== undefined) say(`CPU profiles: ${profDir}/n<i>-life<k>.cpuprofile`)
say(`report: ${file}.html`)
process.exit(ok ? 0 : 1)
