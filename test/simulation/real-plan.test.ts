/**
 * The real-node harness's pure parts (no root needed): fault plans are a function of the seed,
 * the nft rules a partition or the WAN profile writes, and the command line's named errors.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { argvOf, parseRunArgs, RunArgsError, reproduceCommand } from '../../simulations/real/args.ts'
import { nftScript, PROFILES, pairKey, proxyPort } from '../../simulations/real/netfaults.ts'
import { nodeConfig } from '../../simulations/real/node-proc.ts'
import { histogram, percentiles } from '../../simulations/real/result.ts'
import { findScenario, planFor, REAL_SCENARIOS, resolveScenario } from '../../simulations/real/scenarios.ts'

const SEED = 5

describe('real-node scenarios', () => {
  it(`draws the same fault plan from the same seed (seed ${SEED}), another from another`, () => {
    const nemesis = resolveScenario(findScenario('nemesis')!, { faultS: 120 })
    assert.deepEqual(planFor(nemesis, SEED), planFor(nemesis, SEED))
    assert.notDeepEqual(planFor(nemesis, SEED), planFor(nemesis, SEED + 1))
    const kinds = new Set(planFor(nemesis, SEED).map((a) => a.kind))
    for (const k of ['partition', 'heal', 'kill', 'restart', 'pause', 'resume', 'skew'])
      assert.ok(kinds.has(k as never), k)
    for (const s of REAL_SCENARIOS) {
      const r = resolveScenario(s, { nodes: 4, faultS: 10 })
      for (const a of planFor(r, SEED)) {
        assert.ok(
          a.at >= 0 && a.at <= Math.max(r.writeMs, r.faultMs + 5_000),
          `${s.name} ${JSON.stringify(a)}`,
        )
        if ('node' in a) assert.ok(a.node >= 0 && a.node < 4)
      }
    }
  })

  it('a partition scenario stops writing at its heal, also with a shorter partition', () => {
    const s = resolveScenario(findScenario('partition-heal')!, { faultS: 6, nodes: 3 })
    const heal = planFor(s, 1).find((a) => a.kind === 'heal')!
    assert.equal(s.writeMs, heal.at)
    assert.deepEqual((planFor(s, 1).find((a) => a.kind === 'partition') as { groups: number[][] }).groups, [
      [0, 1],
      [2],
    ])
  })

  it('writes nft drops for a partition: direct (LAN) or on the proxy ports (WAN)', () => {
    const dropped = new Set([pairKey(0, 2), pairKey(2, 0)])
    const lan = nftScript(0, 3, PROFILES.lan, dropped)
    assert.match(lan, /ip daddr 10\.78\.0\.3 drop/)
    assert.match(lan, /ip saddr 10\.78\.0\.3 drop/)
    assert.doesNotMatch(lan, /10\.78\.0\.2 drop/)
    assert.doesNotMatch(lan, /numgen/)
    const wan = nftScript(0, 3, PROFILES.wan, dropped)
    assert.match(wan, new RegExp(`tcp dport ${proxyPort(0, 2)} drop`))
    assert.match(wan, new RegExp(`tcp sport ${proxyPort(0, 2)} drop`))
    assert.match(wan, /tcp dport 7421 reject with tcp reset/)
    assert.match(wan, /numgen random mod 2000 < 10 drop/)
    // A healed namespace keeps only the profile's rules.
    assert.doesNotMatch(nftScript(1, 3, PROFILES.lan, new Set()), /drop/)
  })

  it('refuses bad arguments by name and prints the reproduce command', () => {
    const base = { scenario: 'steady', seed: '1', out: 'x' }
    assert.throws(() => parseRunArgs({ ...base, scenario: 'nope' }), RunArgsError)
    assert.throws(() => parseRunArgs({ ...base, nodes: '1' }), /--nodes must be an integer 2\.\.50/)
    assert.throws(() => parseRunArgs({ ...base, profile: 'moon' }), /--profile must be lan or wan/)
    assert.throws(() => parseRunArgs({ ...base, rate: '100000' }), /--rate/)
    assert.equal(
      reproduceCommand(parseRunArgs({ ...base, profile: 'wan', nodes: '3' })),
      'npm run simulate:real -- --scenario steady --seed 1 --profile wan --nodes 3',
    )
  })

  it('--node-logs asks for debug logs per node and is passed on to the driver', () => {
    const base = { scenario: 'steady', seed: '1', out: 'x' }
    assert.equal(parseRunArgs(base).nodeLogs, false)
    assert.equal(parseRunArgs({ ...base, 'node-logs': true }).nodeLogs, true)
    assert.deepEqual(argvOf({ ...base, keep: false, 'node-logs': true }), [
      '--scenario',
      'steady',
      '--seed',
      '1',
      '--out',
      'x',
      '--node-logs',
    ])
    const spec = { index: 0, ns: 'n', ip: '10.78.0.1', dir: '/d', peerId: 'p', publicKey: 'k', token: 't' }
    const cfg = (logLevel?: 'warn' | 'debug') =>
      nodeConfig({ spec, members: [], mdns: true, bootstrap: [], logLevel })
    assert.deepEqual(cfg().log, { level: 'warn' })
    assert.deepEqual(cfg('debug').log, { level: 'debug' })
  })

  it('percentiles and the histogram count every value', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.deepEqual(percentiles(v), { count: 100, p50: 50, p90: 90, p99: 99, max: 100 })
    assert.equal(
      histogram([0.5, 3, 3, 70_000]).reduce((a, b) => a + b.count, 0),
      4,
    )
  })
})
