/**
 * Generated input for every decoder and route (issue 9): a few hundred cases each here, 10,000
 * each in `npm run fuzz` (bench/fuzz.ts, figures in docs/FUZZ.md). The seed is fixed so the run
 * is reproducible; FUZZ_SEED and FUZZ_TEST_RUNS change it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { openFuzzFixture } from './fixture.ts'
import { type FuzzFixture, runTarget } from './runner.ts'

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_205)
const RUNS = Number(process.env.FUZZ_TEST_RUNS ?? 200)
const NAMES = [
  'http POST /sync/push',
  'http POST /sync/pull',
  'http POST /sync/resolve-conflict',
  'http POST /sync/rollback',
  'http POST /peers',
  'http GET /state params',
  'http GET list queries',
  'mesh push request frames',
  'mesh pull request frames',
  'mesh resolve request frames',
  'mesh response frames (client side)',
  'gossip messages',
  'config files',
  'identity files',
  'bootstrap and members files',
  'Yjs updates (guard)',
]

describe(`generated input, ${RUNS} cases per decoder (seed ${SEED})`, () => {
  let fixture: FuzzFixture
  before(async () => {
    fixture = await openFuzzFixture()
    assert.deepEqual(
      fixture.targets.map((t) => t.name),
      NAMES,
    )
  })
  after(async () => {
    await fixture?.close()
  })
  for (const name of NAMES) {
    it(name, async () => {
      const target = fixture.targets.find((t) => t.name === name)!
      const r = await runTarget(target, RUNS, SEED)
      assert.equal(r.cases, RUNS)
      assert.equal(
        r.failures,
        0,
        `${r.failures} of ${r.cases} cases failed (reproduce: FUZZ_SEED=${SEED} FUZZ_TEST_RUNS=${RUNS}):\n${r.examples.join('\n')}`,
      )
    })
  }
})
