/**
 * `npm run simulate -- [--scenario NAME] [--seed N] [--nodes N] [--events N] [--out DIR]
 * [--no-oracle] [--no-log-phase]`:
 * runs one scenario, prints progress, writes a JSON result and a self-contained HTML report,
 * and on a failure prints the one command that reproduces it. `--list` lists the scenarios.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { renderReport } from './report-html.ts'
import { runScenario } from './runner.ts'
import { resolveScenario } from './scenario.ts'
import { SCENARIOS } from './scenarios/index.ts'

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'steady' },
    seed: { type: 'string', default: '1' },
    nodes: { type: 'string' },
    events: { type: 'string' },
    out: { type: 'string', default: 'simulations/out' },
    list: { type: 'boolean', default: false },
    'no-oracle': { type: 'boolean', default: false },
    'no-log-phase': { type: 'boolean', default: false },
  },
})

if (values.list) {
  for (const s of SCENARIOS.values()) console.log(`${s.name.padEnd(18)} ${s.description}`)
  process.exit(0)
}
const input = SCENARIOS.get(values.scenario)
if (input === undefined) {
  console.error(`unknown scenario ${values.scenario}; one of: ${[...SCENARIOS.keys()].join(', ')}`)
  process.exit(2)
}
const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  if (!/^\d{1,9}$/.test(v)) {
    console.error(`--${name} must be a non-negative integer, got ${v}`)
    process.exit(2)
  }
  return Number(v)
}
const seed = int('seed', values.seed)!
const nodes = int('nodes', values.nodes)
const events = int('events', values.events)
if (nodes !== undefined && (nodes < 2 || nodes > 5000)) {
  console.error('--nodes must be 2..5000')
  process.exit(2)
}
const noLogPhase = values['no-log-phase'] === true
const scenario = { ...resolveScenario(input, { nodes, events }), ...(noLogPhase ? { logPhase: false } : {}) }
const command = `npm run simulate -- --scenario ${scenario.name} --seed ${seed}${nodes !== undefined ? ` --nodes ${nodes}` : ''}${events !== undefined ? ` --events ${events}` : ''}${noLogPhase ? ' --no-log-phase' : ''}`
console.log(`simulating ${scenario.name}: ${scenario.description}`)
console.log(`  ${scenario.nodes} nodes, ${scenario.events} events, seed ${seed}`)
const result = await runScenario(scenario, seed, {
  command,
  progress: (l) => console.log(l),
  oracle: !values['no-oracle'],
})
const dir = resolve(values.out!)
mkdirSync(dir, { recursive: true })
const base = join(dir, `${scenario.name}-seed${seed}`)
writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 1)}\n`)
writeFileSync(`${base}.html`, renderReport(result))
const conv =
  result.convergeAfterHealMs === null
    ? 'did not converge'
    : `converged ${(result.convergeAfterHealMs / 1000).toFixed(2)} s after the heal`
console.log(
  `${result.passed ? 'PASSED' : 'FAILED'}: ${conv}; propagation p50 ${result.delays.p50} ms, p99 ${result.delays.p99} ms; ${result.counters.sessions} sessions; wall ${((result.wallMs ?? 0) / 1000).toFixed(1)} s, CPU ${((result.cpuMs ?? 0) / 1000).toFixed(1)} s`,
)
for (const f of result.failures) console.log(`  - ${f}`)
console.log(`report: ${base}.html\nresult: ${base}.json`)
if (!result.passed) {
  console.log(`reproduce: ${command}`)
  process.exitCode = 1
}
