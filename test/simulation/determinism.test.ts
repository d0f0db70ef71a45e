/**
 * The same scenario and seed give the same result, byte for byte (wall and CPU time aside), and a
 * failing run says so with the command that reproduces it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runScenario } from '../../simulations/runner.ts'
import { resolveScenario } from '../../simulations/scenario.ts'
import { SCENARIOS } from '../../simulations/scenarios/index.ts'

const json = (r: object): string => JSON.stringify({ ...r, wallMs: undefined, cpuMs: undefined })

describe('simulation determinism', () => {
  it('two runs of one seed give identical JSON results; another seed differs', async () => {
    const s = resolveScenario(SCENARIOS.get('crash-restart')!, { nodes: 20, events: 150 })
    const a = await runScenario(s, 5, { command: 'x' })
    const b = await runScenario(s, 5, { command: 'x' })
    assert.equal(json(a), json(b))
    const c = await runScenario(s, 6, { command: 'x' })
    assert.notEqual(json(a), json(c))
  })

  it('a run that cannot converge in its budget fails and names the command to reproduce it', async () => {
    const base = SCENARIOS.get('partition-heal')!
    const s = resolveScenario({ ...base, budgetMs: 0, reconcileIntervalMs: 0 }, { nodes: 20, events: 150 })
    const cmd = 'npm run simulate -- --scenario partition-heal --seed 3'
    const r = await runScenario(s, 3, { command: cmd })
    assert.equal(r.passed, false)
    assert.match(r.failures.join('\n'), /not converged/)
    assert.equal(r.command, cmd)
  })

  it('a run left with many different sets computes the state of the 3 largest only, and says so', async () => {
    const base = SCENARIOS.get('partition-heal')!
    const s = resolveScenario(
      { ...base, budgetMs: 0, reconcileIntervalMs: 0, gossip: { loss: 0.6, duplicate: 0 } },
      { nodes: 20, events: 150 },
    )
    const r = await runScenario(s, 3, { command: 'x' })
    assert.equal(r.passed, false)
    assert.match(r.failures.join('\n'), /different event sets/)
    assert.match(r.failures.join('\n'), /state computed for the 3 largest of \d+ event sets only/)
    assert.equal(r.states.length, 3)
    assert.ok(r.states[0].nodes >= r.states[2].nodes)
  })
})
