/**
 * `npm run bench [-- ingest|commit|cost|cells|yjs|replay|sustained|reconcile|catchup|vectors|star|propagation ...]`: runs the named benchmarks (all by
 * default; `cost-il`, bench/cost-interleaved.ts, only when named), prints median and range, and updates bench/results.json (quoted in
 * docs/BENCHMARKS.md; benchmarks not run keep their last figures).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { benchCatchUp } from './catch-up.ts'
import { benchCommitCost } from './commit-cost.ts'
import { benchCost } from './cost.ts'
import { benchIngest } from './ingest.ts'
import { benchLogPhase } from './log-phase.ts'
import { benchLogVerify } from './log-verify.ts'
import { benchReconcile } from './reconcile.ts'
import { benchReplay } from './replay.ts'

const which = process.argv.slice(2)
const want = (name: string) => which.length === 0 || which.includes(name)
const file = new URL('./results.json', import.meta.url)
// Benchmarks not run this time keep their last figures.
const results: Record<string, unknown> = {
  ...(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {}),
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
}
if (want('ingest')) results.ingest = await benchIngest()
if (want('commit')) results.commit = await benchCommitCost()
if (want('replay')) results.replay = await benchReplay()
if (want('reconcile')) results.reconcile = await benchReconcile()
if (want('catchup')) results.catchup = await benchCatchUp()
if (want('logverify')) results.logverify = await benchLogVerify()
if (want('logphase')) results.logphase = await benchLogPhase()
if (want('vectors')) results.vectors = await (await import('./vector-size.ts')).benchVectorSize()
if (want('cost')) results.cost = await benchCost()
// Named only (not in the default run): the one-event commit beside a base in one process.
if (which.includes('cost-il'))
  results.costInterleaved = await (await import('./cost-interleaved.ts')).benchCostInterleaved()
if (want('cells')) results.cells = await (await import('./cell-cost.ts')).benchCellCost()
if (want('yjs')) results.yjs = await (await import('./yjs-cost.ts')).benchYjsCost()
if (want('sustained')) results.sustained = await (await import('./sustained-rss.ts')).benchSustainedRss()
if (want('star')) results.star = await (await import('./star.ts')).benchStar()
if (want('propagation')) {
  const mod = await import('./propagation.ts').catch(() => undefined)
  if (mod === undefined) console.log('propagation benchmark: not available')
  else results.propagation = await (mod as { benchPropagation: () => Promise<unknown> }).benchPropagation()
}
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`)
console.log('wrote bench/results.json')
