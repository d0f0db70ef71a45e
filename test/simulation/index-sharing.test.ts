/**
 * The simulator's range indexes are brought up to date only when something reads them, and
 * nodes holding equal chunks share one pooled copy. Neither may change what a run computes:
 * a run with every index brought up to date at every sample gives the same result byte for byte
 * (the pool's own counters aside), every node's index is exactly its durable set, and a node
 * whose index diverges from nodes it shares chunks with does not change theirs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runScenario } from '../../simulations/runner.ts'
import { resolveScenario } from '../../simulations/scenario.ts'
import { SCENARIOS } from '../../simulations/scenarios/index.ts'
import { Simulator } from '../../simulations/sim.ts'
import { RangeIndex } from '../../src/core/range-index.ts'

const SEED = 3

/** The result without wall and CPU time and the pool's counters (which count what is pooled). */
const json = (r: { counters: Record<string, number> }): string => {
  const { pooledChunks: _c, pooledKeys: _k, ...counters } = r.counters
  return JSON.stringify({ ...r, counters, wallMs: undefined, cpuMs: undefined })
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

describe('simulator index sharing', () => {
  for (const [name, nodes, events] of [
    ['partition-large', 30, 1000],
    ['forking-member', 20, 200],
    ['crash-restart', 20, 200],
  ] as const) {
    it(`${name}: lazy, shared indexes give the result of indexes brought up to date at every sample (seed ${SEED})`, async () => {
      const s = resolveScenario(SCENARIOS.get(name)!, { nodes, events })
      const lazy = await runScenario(s, SEED, { command: 'x', oracle: false })
      const eager = await runScenario(s, SEED, { command: 'x', oracle: false, eagerIndexes: true })
      assert.equal(lazy.passed, true, lazy.failures.join('; '))
      assert.ok(lazy.counters.rounds > 0, 'range phases ran (the indexes were read)')
      assert.equal(json(lazy), json(eager))
    })
  }

  it(`every node's index is its durable set, and a node that diverges leaves the others' alone (seed ${SEED})`, () => {
    const s = resolveScenario(SCENARIOS.get('partition-heal')!, { nodes: 24, events: 300 })
    const sim = new Simulator(s, SEED)
    sim.setup()
    // Part of the way into the split (sets differ), then to the end of the budget (converged).
    for (const until of [15_000, s.healAtMs + s.budgetMs]) {
      for (let t = 0; t <= until; t += s.sampleMs) {
        sim.run(t)
        sim.sample()
      }
      for (const n of sim.liveHonest()) {
        for (let ti = 0; ti < s.types.length; ti++) {
          const fresh = new RangeIndex()
          for (const o of sim.heldOrds(n)) if (sim.events[o].typeIdx === ti) fresh.insert(sim.events[o].key)
          const idx = sim.index(n, ti)
          assert.equal(idx.size, fresh.size, `node ${n.id} type ${ti}: size`)
          assert.equal(hex(idx.fingerprint(0, idx.size)), hex(fresh.fingerprint(0, fresh.size)))
        }
      }
    }
    assert.ok(sim.converged())
    // Every node now holds the same set: their indexes share pooled chunks.
    const live = sim.liveHonest()
    for (const n of live) for (let ti = 0; ti < s.types.length; ti++) sim.index(n, ti).share(sim.chunks)
    for (const n of live) for (let ti = 0; ti < s.types.length; ti++) sim.index(n, ti).share(sim.chunks)
    const before = live.map((n) => hex(sim.index(n, 0).fingerprint(0, sim.index(n, 0).size)))
    assert.equal(new Set(before).size, 1)
    assert.ok(sim.chunks.chunks < live.length, 'the nodes share chunks')
    // One node's index takes a key inside the range every node holds (a shared chunk).
    const first = live[0]
    const idx = sim.index(first, 0)
    const key = idx.keyAt(Math.floor(idx.size / 2)).slice()
    key[39] ^= 1
    assert.equal(idx.insert(key), true)
    assert.notEqual(hex(idx.fingerprint(0, idx.size)), before[0])
    for (let i = 1; i < live.length; i++) {
      const other = sim.index(live[i], 0)
      assert.equal(hex(other.fingerprint(0, other.size)), before[i], `node ${live[i].id} unchanged`)
      assert.equal(other.has(key), false)
    }
  })
})
