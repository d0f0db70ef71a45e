/**
 * The simulated network: a random mesh of bounded degree and, for any two neighbours and a
 * virtual time, whether a message from one reaches the other (partitions, one-way partitions,
 * flapping links, bans) and how long it takes (latency, jitter, loss bursts, bandwidth).
 * The fault windows are fixed by the scenario; node liveness and bans are the simulator's.
 */
import type { Rng } from './rng.ts'
import type { Scenario } from './scenario.ts'

/** Builds an undirected graph where every node has about `degree` neighbours. */
export function buildMesh(n: number, degree: number, rng: Rng): number[][] {
  const nbrs: Set<number>[] = Array.from({ length: n }, () => new Set<number>())
  // A ring first (connected), then random chords up to the degree.
  for (let i = 0; i < n && n > 1; i++) {
    const j = (i + 1) % n
    if (i !== j) {
      nbrs[i].add(j)
      nbrs[j].add(i)
    }
  }
  const want = Math.min(degree, n - 1)
  for (let i = 0; i < n; i++) {
    for (let tries = 0; nbrs[i].size < want && tries < 20 * want; tries++) {
      const j = rng.int(n)
      if (j === i || nbrs[i].has(j) || nbrs[j].size >= want + 2) continue
      nbrs[i].add(j)
      nbrs[j].add(i)
    }
  }
  return nbrs.map((s) => [...s].sort((a, b) => a - b))
}

/** A stable hash of a link and a salt to [0, 1). */
export function linkHash(a: number, b: number, salt: number): number {
  const lo = Math.min(a, b)
  const hi = Math.max(a, b)
  let h = Math.imul(lo + 0x9e3779b9, 0x85ebca6b) ^ Math.imul(hi + 0x7f4a7c15, 0xc2b2ae35) ^ salt
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d)
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39)
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296
}

export class NetworkModel {
  readonly #s: Scenario
  readonly #initialNodes: number
  readonly #salt: number

  constructor(s: Scenario, salt: number) {
    this.#s = s
    this.#initialNodes = s.nodes
    this.#salt = salt
  }

  #group(node: number, groups: number): number {
    return node < this.#initialNodes ? Math.floor((node * groups) / this.#initialNodes) : node % groups
  }

  /** Whether the fault windows let a message from `a` reach `b` at time t. */
  passes(a: number, b: number, t: number): boolean {
    const f = this.#s.faults
    for (const p of f.partitions ?? []) {
      if (t < p.atMs || t >= p.untilMs) continue
      const ga = this.#group(a, p.groups)
      const gb = this.#group(b, p.groups)
      if (ga === gb) continue
      if (!(p.oneWay === true && ga < gb)) return false
    }
    for (const fl of f.flapping ?? []) {
      if (t < fl.atMs || t >= fl.untilMs) continue
      if (linkHash(a, b, this.#salt) >= fl.share) continue
      const phase = linkHash(a, b, this.#salt ^ 0x5bd1e995) * fl.periodMs
      if ((t + phase) % fl.periodMs < fl.periodMs / 2) return false
    }
    return true
  }

  /** Times at which a link may go down or come back up (fault windows starting and ending,
   *  flaps falling and rising). */
  transitions(): number[] {
    const f = this.#s.faults
    const out = new Set<number>()
    for (const p of f.partitions ?? []) {
      out.add(p.atMs)
      out.add(p.untilMs)
    }
    for (const fl of f.flapping ?? []) {
      for (let t = fl.atMs; t <= fl.untilMs; t += fl.periodMs / 2) out.add(Math.round(t))
      out.add(fl.untilMs)
    }
    return [...out].sort((x, y) => x - y)
  }

  extraLoss(t: number): number {
    let loss = 0
    for (const b of this.#s.faults.lossBursts ?? [])
      if (t >= b.atMs && t < b.untilMs) loss = Math.max(loss, b.loss)
    return loss
  }

  /** One-way delay of a small message sent at t (ms). */
  delay(t: number, rng: Rng): number {
    let d = this.#s.latency.baseMs + rng.exp(this.#s.latency.jitterMs)
    for (const b of this.#s.faults.lossBursts ?? [])
      if (t >= b.atMs && t < b.untilMs) d += rng.next() * b.extraDelayMs
    return d
  }
}
