/**
 * The real-node harness's readiness gate (pure, no root needed): the writes start once every
 * node is connected to every other, reaches each by an open direct stream, and every pair has
 * finished a reconciliation session; until then it names the first unmet condition. Also the
 * CPU-profile reader (`--cpu-prof`), on a hand-made profile.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseRunArgs, RunArgsError, reproduceCommand } from '../../simulations/real/args.ts'
import { type CpuProfile, foldCpu, windowCpu } from '../../simulations/real/cpu-profile.ts'
import { cpuProfFlags } from '../../simulations/real/node-proc.ts'
import { fourPeersUnmet, hasFourPeers, meshUnformed, type PeerRow } from '../../simulations/real/readiness.ts'

const ids = ['pa', 'pb', 'pc']
/** Every node connected to every other, direct, and in sync where `synced(i, j)`. */
const mesh = (synced: (i: number, j: number) => boolean = (i, j) => i < j): PeerRow[][] =>
  ids.map((_, i) =>
    ids.flatMap((id, j) =>
      j === i
        ? []
        : [{ peerId: id, connected: true, direct: true, ...(synced(i, j) ? { inSyncAsOf: 't' } : {}) }],
    ),
  )

describe('real-node readiness gate', () => {
  it('is formed when every pair is connected, direct and has finished a session (on either side)', () => {
    assert.equal(meshUnformed(mesh(), ids), '')
    assert.equal(
      meshUnformed(
        mesh((i, j) => i > j),
        ids,
      ),
      '',
    )
  })

  it('names a node that does not answer', () => {
    const lists = mesh() as Array<PeerRow[] | undefined>
    lists[1] = undefined
    assert.equal(meshUnformed(lists, ids), 'node 1 does not answer /peers')
  })

  it('names a missing connection, also one listed but not connected', () => {
    const lists = mesh()
    lists[0] = lists[0].filter((r) => r.peerId !== 'pc')
    assert.equal(meshUnformed(lists, ids), 'node 0 is connected to 1 of 2 nodes (not to node 2)')
    const down = mesh()
    down[2] = down[2].map((r) => (r.peerId === 'pa' ? { ...r, connected: false } : r))
    assert.equal(meshUnformed(down, ids), 'node 2 is connected to 1 of 2 nodes (not to node 0)')
  })

  it('waits for the direct stream (a node that does not report it is not ready)', () => {
    const lists = mesh()
    lists[1] = lists[1].map((r) => (r.peerId === 'pc' ? { ...r, direct: false } : r))
    assert.equal(meshUnformed(lists, ids), 'node 1 cannot yet send to node 2 by its direct stream')
    const old = mesh().map((l) => l.map(({ direct: _, ...r }) => r))
    assert.match(meshUnformed(old, ids), /node 0 cannot yet send to node 1/)
  })

  it('waits for a finished session on every pair', () => {
    assert.equal(
      meshUnformed(
        mesh((i, j) => i < j && !(i === 1 && j === 2)),
        ids,
      ),
      'nodes 1 and 2 have not finished a reconciliation session yet',
    )
  })

  it('keeps the earlier gate (4 peers, or all of them in a smaller run) as a measurement', () => {
    assert.equal(hasFourPeers(mesh(), 3), true)
    const lists = mesh()
    lists[2] = lists[2].slice(0, 1)
    assert.equal(hasFourPeers(lists, 3), false)
    assert.equal(hasFourPeers([mesh()[0], undefined, mesh()[2]], 3), false)
  })
})

describe('real-node gate option (--gate)', () => {
  const base = { scenario: 'steady', seed: '1', out: 'o' }

  it('defaults to the formed mesh; four-peers is the earlier gate, named in the reproduce command', () => {
    assert.equal(parseRunArgs(base).gate, 'formed')
    const four = parseRunArgs({ ...base, gate: 'four-peers' })
    assert.equal(four.gate, 'four-peers')
    assert.match(reproduceCommand(four), /--gate four-peers/)
    assert.doesNotMatch(reproduceCommand(parseRunArgs(base)), /--gate/)
    assert.throws(() => parseRunArgs({ ...base, gate: 'soon' }), RunArgsError)
  })

  it('four-peers: met with 4 peers each (all of them in a smaller run) and no split', () => {
    const ten = Array.from({ length: 10 }, (_, i) => `p${i}`)
    // a ring where each node is connected to its 2 neighbours on each side: 4 peers, one mesh
    const ring = ten.map((_, i) =>
      [1, 2, 8, 9].map((d) => ({ peerId: ten[(i + d) % 10], connected: true }) as PeerRow),
    )
    assert.equal(fourPeersUnmet(ring, ten), '')
    // two groups of five, each a full mesh: 4 peers each, but split
    const halves = ten.map((_, i) =>
      ten
        .filter((_, j) => j !== i && Math.floor(j / 5) === Math.floor(i / 5))
        .map((id) => ({ peerId: id, connected: true })),
    )
    assert.equal(fourPeersUnmet(halves, ten), 'the mesh is split (5 of 10 reachable from node 0)')
    const short = ring.map((l, i) => (i === 3 ? l.slice(0, 3) : l))
    assert.equal(fourPeersUnmet(short, ten), 'not every node has 4 peers')
    assert.equal(fourPeersUnmet(mesh(), ids), '', 'three nodes: both peers')
  })
})

describe('real-node CPU profiles (--cpu-prof)', () => {
  it('is an option; each life of a node writes its own profile', () => {
    const base = { scenario: 'steady', seed: '1', out: 'o' }
    assert.equal(parseRunArgs(base).cpuProf, false)
    assert.equal(parseRunArgs({ ...base, 'cpu-prof': true }).cpuProf, true)
    assert.deepEqual(cpuProfFlags('/d', 3, 2), [
      '--cpu-prof',
      '--cpu-prof-dir=/d',
      '--cpu-prof-name=n3-life2.cpuprofile',
    ])
  })

  it('charges each sample to its function, and to the product functions on its stack, within the window', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 })
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('render', 'file:///x/src/node/metrics.ts'), children: [3] },
        { id: 3, callFrame: frame('memoryUsage') },
        { id: 4, callFrame: frame('(idle)') },
      ],
      startTime: 1_000,
      endTime: 2_000,
      samples: [3, 3, 4, 2, 3],
      timeDeltas: [100, 100, 100, 100, 100],
    }
    // samples at 1100, 1200, 1300 (idle), 1400, 1500; the window [1150, 1450) holds three
    const w = windowCpu(p, 1_150, 1_450)
    assert.equal(w.busyUs, 200)
    assert.deepEqual(
      [...w.self],
      [
        ['memoryUsage', 100],
        ['render src/node/metrics.ts:1', 100],
      ],
    )
    assert.deepEqual([...w.inclusive], [['render src/node/metrics.ts:1', 200]])
  })

  it('folds the samples by their phase in a period: what recurs at one moment fills one bin', () => {
    const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0 })
    // a 'ping' every 1,000 µs at phase 100 µs, other work in between; period 1,000, bins of 250
    const samples: number[] = []
    const timeDeltas: number[] = []
    for (let k = 0; k < 40; k++) {
      samples.push(k % 10 === 1 ? 2 : 3)
      timeDeltas.push(100)
    }
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3] },
        { id: 2, callFrame: frame('ping', 'file:///x/src/net/ping.ts') },
        { id: 3, callFrame: frame('work', 'file:///x/src/node/work.ts') },
      ],
      startTime: 0,
      endTime: 4_000,
      samples,
      timeDeltas,
    }
    const f = foldCpu(p, { originUs: 0, periodUs: 1_000, binUs: 250, fromUs: 0, toUs: 4_000 })
    assert.deepEqual(f.inclusive.get('ping src/net/ping.ts:1'), [400, 0, 0, 0])
    assert.equal(
      f.total.reduce((a, b) => a + b, 0),
      3_900,
      'every sample in the window once (the last one, at 4,000 µs, is outside)',
    )
  })
})
