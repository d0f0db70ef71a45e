/**
 * `npm run fuzz`: generated input for every decoder and route (test/fuzz), 10,000 cases each by
 * default, against a real node. Prints cases, failures and cases/s per decoder and the first
 * failures; exits 1 when any case failed.
 *
 *   FUZZ_RUNS=10000   cases per decoder
 *   FUZZ_SEED=123     seed (printed; a random one by default)
 *   FUZZ_ONLY=mesh    only the decoders whose name contains this text
 */
import { cpus } from 'node:os'
import { openFuzzFixture } from '../test/fuzz/fixture.ts'
import { runTarget } from '../test/fuzz/runner.ts'

const runs = Number(process.env.FUZZ_RUNS ?? 10_000)
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const only = process.env.FUZZ_ONLY
console.log(`fuzz: ${runs} cases per decoder, seed ${seed} (FUZZ_SEED=${seed} to repeat)`)
console.log(`node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`)

const fixture = await openFuzzFixture()
let failed = 0
const started = performance.now()
try {
  console.log(
    `${'decoder'.padEnd(40)} ${'cases'.padStart(7)} ${'failures'.padStart(8)} ${'s'.padStart(7)} ${'cases/s'.padStart(8)}`,
  )
  for (const target of fixture.targets) {
    if (only !== undefined && !target.name.includes(only)) continue
    const r = await runTarget(target, runs, seed)
    failed += r.failures
    console.log(
      `${r.name.padEnd(40)} ${String(r.cases).padStart(7)} ${String(r.failures).padStart(8)} ${(r.ms / 1000).toFixed(1).padStart(7)} ${Math.round(
        r.cases / (r.ms / 1000),
      )
        .toString()
        .padStart(8)}`,
    )
    for (const e of r.examples) console.log(`  failure: ${e}`)
  }
} finally {
  await fixture.close()
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s, ${failed} failures (seed ${seed})`)
process.exitCode = failed > 0 ? 1 : 0
