/**
 * The real-node scenarios: plain option objects plus a seeded fault plan. The same kinds as the
 * deterministic simulator's (simulations/scenarios/), run against real node processes in the
 * lab. A plan is a list of timed actions (ms from the start of the writes), drawn from the seed
 * before the run starts, so one seed always injects the same faults at the same times; what the
 * real nodes do with them is not deterministic (real time, real TCP, a shared CPU).
 */
import { Rng } from '../rng.ts'
import type { ProfileName } from './netfaults.ts'

export type Action =
  | { at: number; kind: 'partition'; groups: number[][] }
  | { at: number; kind: 'one-way'; from: number[]; to: number[] }
  | { at: number; kind: 'links-down'; pairs: Array<[number, number]> }
  | { at: number; kind: 'heal' }
  | { at: number; kind: 'kill'; node: number }
  | { at: number; kind: 'restart'; node: number }
  | { at: number; kind: 'pause'; node: number }
  | { at: number; kind: 'resume'; node: number }
  | { at: number; kind: 'skew'; node: number; offsetS: number }

export interface RealScenario {
  readonly name: string
  readonly description: string
  readonly nodes: number
  readonly profile: ProfileName
  /** Writes per second over the whole lab (one event per HTTP push, on a random live node). */
  readonly rate: number
  /** Length of the writing phase, ms. Writes are bounded: rate × writeMs / 1000 at most. */
  readonly writeMs: number
  /** Length of the main fault (a partition, the flapping, the nemesis), ms. */
  readonly faultMs: number
  /** Converged within this long after the final heal (or the last write), else the run fails. */
  readonly budgetMs: number
  /** Nodes run under libfaketime (needed to skew their clocks). */
  readonly skew: boolean
  readonly plan: (s: RealScenario, rng: Rng) => Action[]
}

export interface Overrides {
  nodes?: number
  rate?: number
  writeS?: number
  faultS?: number
  budgetS?: number
  profile?: ProfileName
}

const halves = (n: number): number[][] => {
  const all = Array.from({ length: n }, (_, i) => i)
  return [all.slice(0, Math.ceil(n / 2)), all.slice(Math.ceil(n / 2))]
}

const base = {
  nodes: 10,
  profile: 'lan' as ProfileName,
  rate: 10,
  writeMs: 60_000,
  faultMs: 30_000,
  budgetMs: 60_000,
  skew: false,
}

const FAULT_START_MS = 5_000

export const REAL_SCENARIOS: readonly RealScenario[] = [
  {
    ...base,
    name: 'steady',
    description: 'writes on random nodes, no faults: the propagation figures',
    plan: () => [],
  },
  {
    ...base,
    name: 'partition-heal',
    description: 'halves split (nft drop) with writes on both sides; writes stop at the heal',
    faultMs: 60_000,
    writeMs: FAULT_START_MS + 60_000,
    plan: (s) => [
      { at: FAULT_START_MS, kind: 'partition', groups: halves(s.nodes) },
      { at: FAULT_START_MS + s.faultMs, kind: 'heal' },
    ],
  },
  {
    ...base,
    name: 'one-way',
    description: 'packets from the first half to the second dropped (the other way passes)',
    writeMs: FAULT_START_MS + 30_000,
    plan: (s) => {
      const [a, b] = halves(s.nodes)
      return [
        { at: FAULT_START_MS, kind: 'one-way', from: a, to: b },
        { at: FAULT_START_MS + s.faultMs, kind: 'heal' },
      ]
    },
  },
  {
    ...base,
    name: 'flapping',
    description: 'a third of the links go down and up every 3 s',
    faultMs: 24_000,
    writeMs: FAULT_START_MS + 24_000,
    plan: (s, rng) => {
      const pairs: Array<[number, number]> = []
      for (let a = 0; a < s.nodes; a++) for (let b = a + 1; b < s.nodes; b++) pairs.push([a, b])
      const out: Action[] = []
      for (let t = 0; t < s.faultMs; t += 6_000) {
        const down = rng.shuffle([...pairs]).slice(0, Math.max(1, Math.round(pairs.length / 3)))
        out.push({ at: FAULT_START_MS + t, kind: 'links-down', pairs: down })
        out.push({ at: FAULT_START_MS + Math.min(t + 3_000, s.faultMs), kind: 'heal' })
      }
      return out
    },
  },
  {
    ...base,
    name: 'crash-restart',
    description: 'a random node killed with kill -9 every 8 s and restarted 4 s later',
    faultMs: 32_000,
    writeMs: FAULT_START_MS + 32_000,
    plan: (s, rng) => {
      const out: Action[] = []
      for (let t = 0; t + 4_000 <= s.faultMs; t += 8_000) {
        const node = rng.int(s.nodes)
        out.push({ at: FAULT_START_MS + t, kind: 'kill', node })
        out.push({ at: FAULT_START_MS + t + 4_000, kind: 'restart', node })
      }
      return out
    },
  },
  {
    ...base,
    name: 'clock-skew',
    description: 'every node up to ±20 s off (libfaketime); one jumps 90 s ahead for 15 s',
    skew: true,
    faultMs: 15_000,
    writeMs: FAULT_START_MS + 25_000,
    plan: (s, rng) => {
      const out: Action[] = Array.from({ length: s.nodes }, (_, node) => ({
        at: 0,
        kind: 'skew' as const,
        node,
        offsetS: rng.int(41) - 20,
      }))
      const jumper = rng.int(s.nodes)
      const back = (out[jumper] as { offsetS: number }).offsetS
      out.push({ at: FAULT_START_MS, kind: 'skew', node: jumper, offsetS: 90 })
      out.push({ at: FAULT_START_MS + s.faultMs, kind: 'skew', node: jumper, offsetS: back })
      return out
    },
  },
  {
    ...base,
    name: 'nemesis',
    description: 'partitions, kill -9, SIGSTOP pauses and clock skew at random, 50 events/s',
    nodes: 5,
    rate: 50,
    skew: true,
    faultMs: 600_000,
    writeMs: 600_000,
    plan: (s, rng) => {
      const out: Action[] = []
      const busyUntil = new Array<number>(s.nodes).fill(0)
      let netUntil = 0
      for (let t = 2_000; t < s.faultMs - 3_000; t += 1_000 + rng.int(3_000)) {
        const end = (ms: number) => Math.min(t + ms, s.faultMs - 1_000)
        switch (rng.int(4)) {
          case 0: {
            if (t < netUntil) break
            const shuffled = rng.shuffle(Array.from({ length: s.nodes }, (_, i) => i))
            const cut = 1 + rng.int(s.nodes - 1)
            out.push({ at: t, kind: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)] })
            netUntil = end(5_000 + rng.int(15_000))
            out.push({ at: netUntil, kind: 'heal' })
            break
          }
          case 1:
          case 2: {
            const node = rng.int(s.nodes)
            if (t < busyUntil[node]) break
            const kind = rng.chance(0.5) ? 'kill' : 'pause'
            busyUntil[node] = end(2_000 + rng.int(6_000))
            out.push({ at: t, kind, node })
            out.push({ at: busyUntil[node], kind: kind === 'kill' ? 'restart' : 'resume', node })
            break
          }
          default:
            out.push({ at: t, kind: 'skew', node: rng.int(s.nodes), offsetS: rng.int(41) - 20 })
        }
      }
      return out.sort((a, b) => a.at - b.at)
    },
  },
]

export function findScenario(name: string): RealScenario | undefined {
  return REAL_SCENARIOS.find((s) => s.name === name)
}

/** The scenario with the command line's overrides. `--write-s` and `--fault-s` keep the plan's
 *  shape: a partition scenario still stops writing at its heal. */
export function resolveScenario(s: RealScenario, o: Overrides): RealScenario {
  const faultMs = o.faultS !== undefined ? o.faultS * 1000 : s.faultMs
  const faultEnds = s.writeMs === FAULT_START_MS + s.faultMs || s.writeMs === s.faultMs
  let writeMs = o.writeS !== undefined ? o.writeS * 1000 : s.writeMs
  if (o.writeS === undefined && o.faultS !== undefined && faultEnds)
    writeMs = s.writeMs === s.faultMs ? faultMs : FAULT_START_MS + faultMs
  return {
    ...s,
    nodes: o.nodes ?? s.nodes,
    rate: o.rate ?? s.rate,
    profile: o.profile ?? s.profile,
    faultMs,
    writeMs,
    budgetMs: o.budgetS !== undefined ? o.budgetS * 1000 : s.budgetMs,
  }
}

export function planFor(s: RealScenario, seed: number): Action[] {
  return s.plan(s, new Rng(seed, `real:${s.name}`)).sort((a, b) => a.at - b.at)
}
