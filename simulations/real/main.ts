/**
 * `npm run simulate:real -- [--scenario NAME] [--seed N] [--profile lan|wan] [--nodes N]
 *  [--rate EVENTS_PER_S] [--write-s S] [--fault-s S] [--out DIR] [--keep] [--node-logs]`
 * `npm run simulate:real -- --list` | `--cleanup`
 *
 * Runs one scenario against real node processes in network namespaces (needs root and
 * `ip netns`): creates the lab, starts the driver inside its hub namespace, and removes the lab
 * when the driver ends, fails, or on SIGINT / SIGTERM (a second signal exits at once, still
 * removing the lab). `--cleanup` removes labs left by a run that was killed with SIGKILL.
 * Exit codes: 0 passed, 1 a check failed, 2 bad arguments, 3 the lab cannot be made here.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { argvOf, parseRunArgs, RUN_OPTIONS, RunArgsError } from './args.ts'
import { createLab, destroyLab, destroyStale, type LabSpec, labUnavailable } from './lab.ts'
import { faketimeLib } from './node-proc.ts'
import { findScenario, REAL_SCENARIOS, resolveScenario } from './scenarios.ts'

const DRIVER = fileURLToPath(new URL('./driver.ts', import.meta.url))

let values: Record<string, string | boolean | undefined>
try {
  values = parseArgs({
    options: {
      ...RUN_OPTIONS,
      list: { type: 'boolean', default: false },
      cleanup: { type: 'boolean', default: false },
    },
    strict: true,
  }).values
} catch (err) {
  console.error((err as Error).message)
  process.exit(2)
}
if (values.list) {
  for (const s of REAL_SCENARIOS)
    console.log(`${s.name.padEnd(15)} ${s.nodes} nodes, ${s.rate}/s, ${s.profile}: ${s.description}`)
  process.exit(0)
}
const unavailable = labUnavailable()
if (unavailable !== undefined) {
  console.error(`simulate:real cannot run here: ${unavailable}`)
  process.exit(3)
}
if (values.cleanup) {
  console.log(`removed ${destroyStale()} namespace(s) left by earlier runs`)
  process.exit(0)
}
let args: ReturnType<typeof parseRunArgs>
try {
  args = parseRunArgs(values)
} catch (err) {
  if (!(err instanceof RunArgsError)) throw err
  console.error(err.message)
  process.exit(2)
}
const scenario = resolveScenario(findScenario(args.scenario)!, args.overrides)
if (scenario.skew && faketimeLib() === undefined) {
  console.error(
    `scenario ${scenario.name} skews clocks with libfaketime: install it (apt-get install faketime)`,
  )
  process.exit(3)
}

let lab: LabSpec | undefined
let removed = false
const removeLab = () => {
  if (lab === undefined || removed) return
  removed = true
  const r = destroyLab(lab)
  console.log(
    `lab ${lab.prefix} removed (${r.namespaces} namespaces${r.killed > 0 ? `, ${r.killed} leftover processes killed` : ''})`,
  )
}
process.on('exit', removeLab)
let signals = 0
const onSignal = (sig: NodeJS.Signals) => {
  signals++
  if (signals > 1 || driver === undefined) {
    removeLab()
    process.exit(130)
  }
  // The driver kills its nodes and exits; the lab goes when it has.
  if (driver.exitCode === null) driver.kill(sig)
  setTimeout(() => {
    removeLab()
    process.exit(130)
  }, 15_000).unref()
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

lab = createLab(scenario.nodes)
const driver = spawn(
  'ip',
  ['netns', 'exec', lab.hub, process.execPath, DRIVER, '--lab', JSON.stringify(lab), ...argvOf(values)],
  { stdio: 'inherit' },
)
const code = await new Promise<number>((resolve) =>
  driver.once('exit', (c, sig) => resolve(c ?? (sig !== null ? 130 : 1))),
)
removeLab()
process.exit(code)
