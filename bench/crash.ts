/**
 * `npm run crash [-- --rounds N --seed S --ops ingest,rebuild,resolve,rollback]`: kill -9 at
 * random points of ingest, rebuild, resolve and rollback, N rounds (default 52, cycling through
 * the ops), each in a fresh data directory. Per round: events acknowledged before the kill,
 * acknowledged events lost after the restart (must be 0), and whether the state hash equals a
 * rebuild from the log. Prints one line per round and a summary; exits 1 on any loss or
 * mismatch, with the seed that reproduces the round (`--seed S --rounds 1 --ops OP`).
 */
import { parseArgs } from 'node:util'
import { CRASH_OPS, type CrashOp, type CrashRound, crashRound } from '../test/helpers/crash.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '52' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    ops: { type: 'string', default: CRASH_OPS.join(',') },
  },
})
const rounds = Number(values.rounds)
const seed = Number(values.seed)
const ops = values.ops.split(',') as CrashOp[]
for (const op of ops)
  if (!CRASH_OPS.includes(op)) throw new Error(`unknown op ${op} (${CRASH_OPS.join(', ')})`)
if (!Number.isInteger(rounds) || rounds < 1 || rounds > 10_000) throw new Error('--rounds must be 1..10000')

console.log(`crash run: ${rounds} rounds, seed ${seed}, ops ${ops.join(',')}, node ${process.version}`)
const results: CrashRound[] = []
let bad = 0
for (let i = 0; i < rounds; i++) {
  const op = ops[i % ops.length]
  const r = await crashRound(seed + i, op)
  results.push(r)
  const ok = r.lost === 0 && r.stateHash === r.rebuiltHash
  if (!ok) bad++
  console.log(
    `${String(i + 1).padStart(3)} ${op.padEnd(8)} seed ${r.seed} kill@${r.killAfterMs}ms${r.killedBeforeReady ? ' (before serving)' : ''}${r.restartRebuilt ? ' (inside the rebuild)' : ''} acked ${r.acked} stored ${r.stored} lost ${r.lost} hash ${r.stateHash === r.rebuiltHash ? '=' : '≠'} rebuild ${ok ? 'ok' : `FAIL (reproduce: npm run crash -- --seed ${r.seed} --rounds 1 --ops ${op})`} ${(r.ms / 1000).toFixed(1)}s`,
  )
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
console.log('\nsummary (per op: rounds, acked events per round median [min-max], lost, hash mismatches)')
for (const op of ops) {
  const rs = results.filter((r) => r.op === op)
  if (rs.length === 0) continue
  const acked = rs.map((r) => r.acked)
  console.log(
    `  ${op.padEnd(8)} ${rs.length} rounds, acked ${median(acked)} [${Math.min(...acked)}-${Math.max(...acked)}], lost ${rs.reduce((a, r) => a + r.lost, 0)}, mismatches ${rs.filter((r) => r.stateHash !== r.rebuiltHash).length}, kill at ${median(rs.map((r) => r.killAfterMs))} ms median, ${rs.filter((r) => r.killedBeforeReady).length} before serving, ${rs.filter((r) => r.restartRebuilt).length} inside a rebuild`,
  )
}
console.log(`total: ${results.length} rounds, ${bad} failed, seed ${seed}`)
process.exitCode = bad === 0 ? 0 : 1
