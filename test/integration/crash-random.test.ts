/**
 * kill -9 at a random point of ingest, catch-up, rebuild, resolve and rollback (one round each; the
 * 50-round run is `npm run crash`): 0 acknowledged events lost, and the state after the restart
 * equals a rebuild from the log. Seeded: GKM_CRASH_SEED=<n> reproduces a run.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CRASH_OPS, crashRound } from '../helpers/crash.ts'

const SEED = Number(process.env.GKM_CRASH_SEED ?? 20261205)

describe(`kill -9 at random points (seed ${SEED})`, () => {
  for (const [i, op] of CRASH_OPS.entries()) {
    it(`${op}: nothing acknowledged is lost, state equals a rebuild`, async () => {
      const r = await crashRound(SEED + i, op)
      console.log(`# ${JSON.stringify(r)}`)
      assert.equal(r.lost, 0, `seed ${r.seed}: ${r.lost} acknowledged events lost`)
      assert.ok(r.acked > 0, `seed ${r.seed}: nothing was acknowledged`)
      assert.equal(r.rebuiltHash, r.stateHash, `seed ${r.seed}: state differs from a rebuild`)
    })
  }
})
