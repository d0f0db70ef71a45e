/**
 * Every scenario of simulations/scenarios at small scale, on fixed seeds: each must pass its
 * checkers (converged within its budget after the heal, one event set and one state among live
 * honest nodes, no acknowledged event lost, bad events refused, misbehaving peers cut off).
 * The large runs are benchmarks (`npm run simulate -- --scenario partition-large`).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runScenario } from '../../simulations/runner.ts'
import { resolveScenario } from '../../simulations/scenario.ts'
import { SCENARIOS, TEST_SCENARIOS } from '../../simulations/scenarios/index.ts'

const SEEDS = [11, 12, 13]
const SMALL = { nodes: 20, events: 200 }

describe('simulation scenarios (20 nodes, seeds 11, 12, 13)', () => {
  for (const SEED of SEEDS)
    for (const name of TEST_SCENARIOS) {
      it(`${name} (seed ${SEED}) converges and passes its checks`, async () => {
        const s = resolveScenario(SCENARIOS.get(name)!, SMALL)
        const r = await runScenario(s, SEED, {
          command: `npm run simulate -- --scenario ${name} --seed ${SEED} --nodes 20 --events 200`,
        })
        assert.ok(r.passed, `${r.failures.join('; ')}\nreproduce: ${r.command}`)
        assert.ok(r.convergeAfterHealMs !== null && r.convergeAfterHealMs <= s.budgetMs)
        assert.equal(r.acknowledged.lost, 0)
        assert.ok(r.states.length >= 1)
        assert.equal(r.states.length, 1, 'one event set and one state (a fork: both versions everywhere)')
        if (name === 'withholding-peer' || name === 'invalid-sender') assert.ok(r.counters.bans >= 1)
        if (name === 'invalid-sender') assert.ok(r.counters.badSignature >= 1)
        if (name === 'forking-member') {
          assert.ok(r.counters.forksWritten >= 1, 'the member forked its log')
          assert.equal(r.counters.equivocations, 0, 'no node refused a version')
        }
        if (name === 'crash-restart') assert.ok(r.counters.crashes >= 1)
        if (name === 'churn') assert.ok(r.counters.joins >= 1 && r.counters.leaves >= 1)
        if (name === 'clock-skew')
          assert.ok(r.counters.driftRefused >= 1, 'events from the jumped clock were refused for a while')
        // Every session opens with the log phase; after a split it moves what the other side wrote.
        assert.ok(r.counters.logPhases > 0 && r.counters.logPhases <= r.counters.sessions)
        if (name === 'partition-heal') assert.ok(r.counters.logFetched > 0 && r.counters.logConsistent > 0)
      })
    }
})

describe('simulation without the log phase (a node that keeps no per-author logs)', () => {
  it('partition-heal converges by the range phase alone', async () => {
    const s = { ...resolveScenario(SCENARIOS.get('partition-heal')!, SMALL), logPhase: false }
    const r = await runScenario(s, 11, {
      command:
        'npm run simulate -- --scenario partition-heal --seed 11 --nodes 20 --events 200 --no-log-phase',
    })
    assert.ok(r.passed, `${r.failures.join('; ')}\nreproduce: ${r.command}`)
    assert.equal(r.counters.logPhases, 0)
    assert.ok(r.counters.fetched > 0)
  })
})
