/**
 * One run of a scenario: set up, run with faults until the heal, then until every live honest
 * node agrees (or the budget is spent), then check. Returns the result object that the JSON
 * file and the HTML report are written from. Same scenario and seed, same result (the wall-time
 * field aside).
 */

import { compareKeys } from '../src/core/range-index.ts'
import type { StoredEvent } from '../src/core/records.ts'
import type { Digest } from '../src/core/types.ts'
import { sha256Hex } from '../src/util/crypto.ts'
import { Rng } from './rng.ts'
import type { Scenario } from './scenario.ts'
import { type FaultMark, type Sample, Simulator } from './sim.ts'
import { computeState, StateBuilder } from './state.ts'

/** Event sets whose state a run that did not converge computes (the largest ones). */
const STATE_SETS_MAX_UNCONVERGED = 3

export interface StateGroup {
  readonly nodes: number
  readonly events: number
  readonly stateHash: string
  readonly openConflicts: number
  readonly resolvedConflicts: number
  readonly conflictIds: string
  readonly records: { open: number; resolved: number; superseded: number }
}

export interface RunResult {
  readonly scenario: string
  readonly description: string
  readonly seed: number
  readonly nodes: number
  readonly events: number
  readonly command: string
  readonly passed: boolean
  readonly failures: string[]
  readonly healAtMs: number
  readonly budgetMs: number
  readonly convergedAtMs: number | null
  readonly convergeAfterHealMs: number | null
  /** With resolutions after the heal: when they had spread too (the run's end). */
  readonly settledAtMs: number | null
  readonly endedAtMs: number
  readonly counters: Record<string, number>
  readonly delays: Percentiles & { histogram: Array<[number, number]> }
  readonly fullDelays: Percentiles
  readonly bytesPerNode: { gossip: Spread; reconcile: Spread; perNode: Array<[number, number]> }
  readonly states: StateGroup[]
  readonly acknowledged: { total: number; lost: number; leftWithAuthor: number }
  /** raised/resolved/superseded come from the conflicts oracle (absent with --no-oracle: -1). */
  readonly conflicts: { raised: number; resolved: number; superseded: number; openAtEnd: number }
  readonly oracle: boolean
  readonly samples: Sample[]
  readonly marks: FaultMark[]
  /** Not part of the deterministic result: wall time and CPU time (user + system) of the run. */
  wallMs?: number
  cpuMs?: number
}

interface Percentiles {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}
interface Spread {
  mean: number
  p50: number
  p90: number
  max: number
}

export interface RunOptions {
  readonly progress?: (line: string) => void
  /** Feed every event to a conflicts oracle (the shipped ingest) for the conflicts timeline. */
  readonly oracle?: boolean
  readonly command: string
  /** Every node's index brought up to date at every sample (tests: the lazy indexes' reference). */
  readonly eagerIndexes?: boolean
}

function spread(values: number[]): Spread {
  const v = [...values].sort((a, b) => a - b)
  const at = (q: number) => (v.length === 0 ? 0 : v[Math.min(v.length - 1, Math.floor(q * v.length))])
  return {
    mean: v.length === 0 ? 0 : Math.round(v.reduce((a, b) => a + b, 0) / v.length),
    p50: at(0.5),
    p90: at(0.9),
    max: v.length === 0 ? 0 : v[v.length - 1],
  }
}

export async function runScenario(s: Scenario, seed: number, opts: RunOptions): Promise<RunResult> {
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const sim = new Simulator(s, seed)
  sim.eagerIndexes = opts.eagerIndexes === true
  const oracle = opts.oracle === false ? undefined : new StateBuilder()
  let fed = 0
  if (oracle !== undefined) {
    sim.openConflictPicker = () =>
      [...oracle.conflicts.values()]
        .filter((c) => c.status === 'open')
        .map((c) => ({
          id: c.id,
          sides: c.sides.map((x) => x.digest as Digest),
          cell: c.cell,
          type: c.type,
          target: c.target,
        }))
  }
  sim.setup()
  const end = s.healAtMs + s.budgetMs
  let convergedAt: number | null = null
  let firstConverged: number | null = null
  let lastPrint = -Infinity
  for (let t = 0; t <= end; t += s.sampleMs) {
    sim.run(t)
    sim.sample()
    if (oracle !== undefined) {
      const fresh: StoredEvent[] = []
      for (; fed < sim.events.length; fed++) {
        const e = sim.events[fed]
        if (sim.valid(e)) fresh.push(e.stored)
      }
      if (fresh.length > 0) await oracle.add(fresh, t)
      const recs = oracle.result().records
      const last = sim.samples[sim.samples.length - 1] as { -readonly [K in keyof Sample]: Sample[K] }
      last.conflictsOpen = recs.open
      last.conflictsResolved = recs.resolved + recs.superseded
      last.conflictsRaised = recs.open + recs.resolved + recs.superseded
    }
    const last = sim.samples[sim.samples.length - 1]
    if (opts.progress !== undefined && (t - lastPrint >= 5_000 || t >= end)) {
      lastPrint = t
      opts.progress(
        `  t=${(t / 1000).toFixed(1).padStart(6)} s  nodes ${last.complete}/${last.live} complete  coverage ${(last.coverage * 100).toFixed(2)}%  events ${last.events}  sessions ${last.sessions}  ${(performance.now() - started) / 1000 < 1 ? '' : `(${((performance.now() - started) / 1000).toFixed(0)} s wall)`}`,
      )
    }
    if (t >= s.healAtMs && t >= s.writeUntilMs && sim.converged() && cutOff(sim)) {
      firstConverged ??= t
      // With resolutions after the heal, run on until they were written and have spread.
      if (t >= s.healAtMs + s.settleMs) {
        convergedAt = t
        break
      }
    }
  }
  const endedAt = sim.now

  // ---- checks
  const failures: string[] = []
  const live = sim.liveHonest()
  if (convergedAt === null)
    failures.push(
      `not converged ${s.budgetMs / 1000} s after the heal: ${live.filter((n) => n.heldSlots !== sim.union).length} of ${live.length} live honest nodes lack events`,
    )
  // Versions of one (author, event_id): an honest node holds at most one. Only forked slots and
  // events that fail admission need a look (a loop over events and nodes, no per-pair objects).
  let twoVersions = 0
  let invalidHeld = 0
  const versions = new Map<number, number[]>()
  for (const e of sim.events) {
    if (!sim.valid(e)) for (const n of live) if (n.held[e.ord] === 2) invalidHeld++
    if (sim.forkedSlots.has(e.slot)) {
      const v = versions.get(e.slot)
      if (v === undefined) versions.set(e.slot, [e.ord])
      else v.push(e.ord)
    }
  }
  for (const ords of versions.values())
    for (const n of live) {
      let held = 0
      for (const o of ords) if (n.held[o] === 2) held++
      if (held >= 2) twoVersions++
    }
  if (invalidHeld > 0) failures.push(`${invalidHeld} events with bad signatures are held by honest nodes`)
  if (twoVersions > 0) failures.push(`${twoVersions} times an honest node holds two versions of one event id`)
  // Acknowledged events: held by every live honest node, unless their author left before anyone had them.
  let acked = 0
  let lost = 0
  let leftWithAuthor = 0
  for (const e of sim.events) {
    if (e.ackAt < 0 || sim.nodes[e.author].role !== 'honest') continue
    acked++
    let holders = 0
    for (const n of live) if (n.held[e.ord] === 2) holders++
    if (holders === live.length) continue
    if (holders === 0 && sim.nodes[e.author].left) leftWithAuthor++
    else lost++
  }
  if (lost > 0) failures.push(`${lost} acknowledged events are missing on some live honest node`)
  // Misbehaving members are cut off by someone.
  for (const n of sim.nodes) {
    if (n.role !== 'withholder' && n.role !== 'invalid') continue
    const cutBy = sim.nodes.filter((m) => m.role === 'honest' && sim.cutOff(m, n.id)).length
    if (cutBy === 0) failures.push(`node ${n.id} (${n.role}) was never cut off by an honest peer`)
  }
  // State: one computation per distinct event set (and a second in shuffled order for purity).
  const groups = new Map<string, number[]>()
  for (const n of live) {
    const k = sim.setKeyOf(n)
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [n.id])
    else g.push(n.id)
  }
  const forked = sim.events.some((e) => e.slot !== e.ord)
  if (!forked && groups.size > 1) failures.push(`${groups.size} different event sets among live honest nodes`)
  const states: StateGroup[] = []
  const shuffle = new Rng(seed, 'check-order')
  // A run that did not converge may leave a thousand different sets: their states are computed
  // for the largest few only (the run has failed already; each is a whole ingest).
  let sets = [...groups.values()]
  if (convergedAt === null && sets.length > STATE_SETS_MAX_UNCONVERGED) {
    sets = sets.sort((x, y) => y.length - x.length).slice(0, STATE_SETS_MAX_UNCONVERGED)
    failures.push(
      `state computed for the ${STATE_SETS_MAX_UNCONVERGED} largest of ${groups.size} event sets only`,
    )
  }
  for (const ids of sets) {
    const ords = sim
      .heldOrds(sim.nodes[ids[0]])
      .sort((a, b) => compareKeys(sim.events[a].key, sim.events[b].key))
    const evs = ords.map((o) => sim.events[o].stored)
    const st = await computeState(evs, endedAt)
    if (evs.length <= 20_000) {
      const again = await computeState(shuffle.shuffle([...evs]), endedAt)
      if (again.stateHash !== st.stateHash || again.openConflicts.join() !== st.openConflicts.join())
        failures.push(
          `state of one event set differs with the order of ingest (${st.stateHash} vs ${again.stateHash})`,
        )
    }
    if (st.refused > 0) failures.push(`${st.refused} events of a node's set are refused by the ingest`)
    states.push({
      nodes: ids.length,
      events: evs.length,
      stateHash: st.stateHash,
      openConflicts: st.openConflicts.length,
      resolvedConflicts: st.resolvedConflicts.length,
      conflictIds: sha256Hex([...st.openConflicts, '|', ...st.resolvedConflicts].join(',')),
      records: st.records,
    })
  }
  if (forked && states.length > 1) {
    // Camps that kept different versions of a forked event: their sets must differ only there.
    const strip = (ids: number[]) =>
      sim
        .heldOrds(sim.nodes[ids[0]])
        .filter((o) => !sim.events.some((e) => e.slot === sim.events[o].slot && e.ord !== sim.events[o].ord))
        .join(',')
    const base = new Set([...groups.values()].map(strip))
    if (base.size > 1) failures.push('nodes differ in events other than the versions of a forked event')
  }
  const raised = oracle?.result().records
  const result: RunResult = {
    scenario: s.name,
    description: s.description,
    seed,
    nodes: sim.nodes.filter((n) => n.joined).length,
    events: sim.events.length,
    command: opts.command,
    passed: failures.length === 0,
    failures,
    healAtMs: s.healAtMs,
    budgetMs: s.budgetMs,
    convergedAtMs: convergedAt === null ? null : firstConverged,
    convergeAfterHealMs:
      convergedAt === null || firstConverged === null ? null : Math.max(0, firstConverged - s.healAtMs),
    settledAtMs: convergedAt,
    endedAtMs: endedAt,
    counters: { ...sim.counters, pooledChunks: sim.chunks.chunks, pooledKeys: sim.chunks.items },
    delays: { ...pct(sim.delays), histogram: sim.delays.buckets() },
    fullDelays: pct(sim.fullDelays),
    bytesPerNode: {
      gossip: spread(sim.nodes.filter((n) => n.joined).map((n) => n.bytesGossip)),
      reconcile: spread(sim.nodes.filter((n) => n.joined).map((n) => n.bytesReconcile)),
      perNode: sim.nodes
        .filter((n) => n.joined)
        .map((n) => [Math.round(n.bytesGossip), Math.round(n.bytesReconcile)]),
    },
    states,
    acknowledged: { total: acked, lost, leftWithAuthor },
    conflicts: {
      raised: raised === undefined ? -1 : raised.open + raised.resolved + raised.superseded,
      resolved: raised?.resolved ?? -1,
      superseded: raised?.superseded ?? -1,
      openAtEnd: states[0]?.openConflicts ?? 0,
    },
    oracle: oracle !== undefined,
    samples: sim.samples,
    marks: sim.marks,
  }
  result.wallMs = Math.round(performance.now() - started)
  const cpu = process.cpuUsage(cpu0)
  result.cpuMs = Math.round((cpu.user + cpu.system) / 1000)
  return result
}

/** Every withholding or invalid-sending member has been cut off by at least one honest peer. */
function cutOff(sim: Simulator): boolean {
  return sim.nodes.every(
    (n) =>
      (n.role !== 'withholder' && n.role !== 'invalid') ||
      sim.nodes.some((m) => m.role === 'honest' && sim.cutOff(m, n.id)),
  )
}

function pct(h: import('./histogram.ts').Histogram): Percentiles {
  return {
    count: h.count,
    p50: h.quantile(0.5),
    p90: h.quantile(0.9),
    p99: h.quantile(0.99),
    max: Math.round(h.max),
  }
}
