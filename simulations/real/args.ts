/** The command line of `npm run simulate:real` (shared by main.ts and the driver it starts). */
import { findScenario, type Overrides, REAL_SCENARIOS } from './scenarios.ts'

export const RUN_OPTIONS = {
  scenario: { type: 'string', default: 'steady' },
  seed: { type: 'string', default: '1' },
  nodes: { type: 'string' },
  rate: { type: 'string' },
  'write-s': { type: 'string' },
  'fault-s': { type: 'string' },
  'budget-s': { type: 'string' },
  profile: { type: 'string' },
  out: { type: 'string', default: 'simulations/out' },
  keep: { type: 'boolean', default: false },
  'node-logs': { type: 'boolean', default: false },
  'cpu-prof': { type: 'boolean', default: false },
  gate: { type: 'string', default: 'formed' },
} as const

export interface RunArgs {
  scenario: string
  seed: number
  overrides: Overrides
  out: string
  keep: boolean
  /** Each node logs at `debug` into `<out>/<run>-n<i>.log` (connections, dials, sessions). */
  nodeLogs: boolean
  /** Each node runs with V8's sampling profiler (`--cpu-prof`), one `.cpuprofile` per life in
   *  `<out>/<run>-prof/`: what the nodes spend their CPU on, with each sample's time. */
  cpuProf: boolean
  /** When the writes start: once the mesh is formed (default), or, `four-peers`, once every node
   *  has 4 peers (the earlier gate: a cold start, writes meeting a mesh still forming). */
  gate: 'formed' | 'four-peers'
}

export class RunArgsError extends Error {
  override name = 'RunArgsError'
}

const int = (name: string, v: string | undefined, min: number, max: number): number | undefined => {
  if (v === undefined) return undefined
  if (!/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max)
    throw new RunArgsError(`--${name} must be an integer ${min}..${max} (got ${JSON.stringify(v)})`)
  return Number(v)
}

export function parseRunArgs(values: Record<string, string | boolean | undefined>): RunArgs {
  const scenario = String(values.scenario)
  if (findScenario(scenario) === undefined)
    throw new RunArgsError(
      `unknown scenario ${JSON.stringify(scenario)}; one of: ${REAL_SCENARIOS.map((s) => s.name).join(', ')}`,
    )
  const gate = String(values.gate ?? 'formed')
  if (gate !== 'formed' && gate !== 'four-peers')
    throw new RunArgsError(`--gate must be formed or four-peers (got ${JSON.stringify(gate)})`)
  const profile = values.profile as string | undefined
  if (profile !== undefined && profile !== 'lan' && profile !== 'wan')
    throw new RunArgsError(`--profile must be lan or wan (got ${JSON.stringify(profile)})`)
  return {
    scenario,
    seed: int('seed', values.seed as string, 0, 2 ** 31)!,
    overrides: {
      // The lab's addresses hold 99 nodes; more than a few dozen real nodes do not fit 2 cores.
      nodes: int('nodes', values.nodes as string | undefined, 2, 50),
      // The writer's bound: one HTTP push per event.
      rate: int('rate', values.rate as string | undefined, 1, 500),
      writeS: int('write-s', values['write-s'] as string | undefined, 1, 3_600),
      faultS: int('fault-s', values['fault-s'] as string | undefined, 1, 3_600),
      budgetS: int('budget-s', values['budget-s'] as string | undefined, 1, 3_600),
      profile,
    },
    out: String(values.out),
    keep: values.keep === true,
    nodeLogs: values['node-logs'] === true,
    cpuProf: values['cpu-prof'] === true,
    gate,
  }
}

/** The one command that runs this again. */
export function reproduceCommand(a: RunArgs): string {
  const o = a.overrides
  const extra = [
    o.profile !== undefined ? `--profile ${o.profile}` : '',
    o.nodes !== undefined ? `--nodes ${o.nodes}` : '',
    o.rate !== undefined ? `--rate ${o.rate}` : '',
    o.writeS !== undefined ? `--write-s ${o.writeS}` : '',
    o.faultS !== undefined ? `--fault-s ${o.faultS}` : '',
    o.budgetS !== undefined ? `--budget-s ${o.budgetS}` : '',
    a.gate !== 'formed' ? `--gate ${a.gate}` : '',
  ].filter((x) => x !== '')
  return `npm run simulate:real -- --scenario ${a.scenario} --seed ${a.seed}${extra.length > 0 ? ` ${extra.join(' ')}` : ''}`
}

/** The values to pass on to the driver (the same options, spelled out). */
export function argvOf(values: Record<string, string | boolean | undefined>): string[] {
  const out: string[] = []
  for (const key of Object.keys(RUN_OPTIONS)) {
    const v = values[key]
    if (v === undefined || v === false) continue
    out.push(`--${key}`)
    if (v !== true) out.push(String(v))
  }
  return out
}
