import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createHttpApi, type HttpApi, type MeshPeers } from '../../../src/http/index.ts'
import type { Network } from '../../../src/net/index.ts'
import { FakeApi, recordingLog } from './fake-api.ts'

// The mesh's Network is what the node passes as `peers`.
const _networkFits = (n: Network): MeshPeers => n
void _networkFits

const servers: HttpApi[] = []
after(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function start(peers?: MeshPeers): Promise<string> {
  const http = createHttpApi(new FakeApi(), {
    host: '127.0.0.1',
    port: 0,
    bodyBytesMax: 64 * 1024,
    log: recordingLog(),
    peers,
  })
  servers.push(http)
  const { host, port } = await http.listen()
  return `http://${host}:${port}`
}

function fakeMesh(dial: (ma: string) => Promise<void> = async () => {}) {
  const dialed: string[] = []
  const mesh: MeshPeers = {
    peerId: '12D3KooWself',
    addresses: () => ['/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWself'],
    peers: () => [
      { peerId: '12D3KooWother', addrs: ['/ip4/127.0.0.1/tcp/7422'], connected: true, lastSeq: 3 },
    ],
    dial: async (ma) => {
      dialed.push(ma)
      await dial(ma)
    },
  }
  return { mesh, dialed }
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/peers`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('/peers', () => {
  it('GET lists our addresses and the peers', async () => {
    const url = await start(fakeMesh().mesh)
    const res = await fetch(`${url}/peers`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), {
      mesh: true,
      peer_id: '12D3KooWself',
      addresses: ['/ip4/127.0.0.1/tcp/7421/p2p/12D3KooWself'],
      peers: [{ peerId: '12D3KooWother', addrs: ['/ip4/127.0.0.1/tcp/7422'], connected: true, lastSeq: 3 }],
    })
  })

  it('POST dials the multiaddr', async () => {
    const { mesh, dialed } = fakeMesh()
    const url = await start(mesh)
    const res = await post(url, { multiaddr: '/ip4/127.0.0.1/tcp/7422' })
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { dialed: '/ip4/127.0.0.1/tcp/7422' })
    assert.deepEqual(dialed, ['/ip4/127.0.0.1/tcp/7422'])
  })

  it('POST refuses a body without a multiaddr', async () => {
    const { mesh, dialed } = fakeMesh()
    const url = await start(mesh)
    for (const body of [
      {},
      { multiaddr: 'ip4/1.2.3.4' },
      { multiaddr: '/ip4/1 2' },
      { multiaddr: '/x', more: 1 },
    ]) {
      const res = await post(url, body)
      assert.equal(res.status, 400, JSON.stringify(body))
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_request')
    }
    assert.deepEqual(dialed, [])
  })

  it('a failed dial is a 502 with the reason; a non-member is a 403', async () => {
    const url = await start(
      fakeMesh(async (ma) => {
        if (ma.includes('7423'))
          throw Object.assign(new Error('peer is not a member'), {
            name: 'NotAMemberError',
            code: 'not_a_member',
          })
        throw new Error('connect ECONNREFUSED 127.0.0.1:7422')
      }).mesh,
    )
    const res = await post(url, { multiaddr: '/ip4/127.0.0.1/tcp/7422' })
    assert.equal(res.status, 502)
    assert.deepEqual(await res.json(), {
      error: 'dial_failed',
      message: 'could not dial /ip4/127.0.0.1/tcp/7422: connect ECONNREFUSED 127.0.0.1:7422',
    })
    const res2 = await post(url, { multiaddr: '/ip4/127.0.0.1/tcp/7423' })
    assert.equal(res2.status, 403)
    assert.deepEqual(await res2.json(), { error: 'not_a_member', message: 'peer is not a member' })
  })

  it('without the mesh: GET says so, POST is a 409', async () => {
    const url = await start()
    assert.deepEqual(await (await fetch(`${url}/peers`)).json(), {
      mesh: false,
      peer_id: null,
      addresses: [],
      peers: [],
    })
    const res = await post(url, { multiaddr: '/ip4/127.0.0.1/tcp/7422' })
    assert.equal(res.status, 409)
    assert.equal(((await res.json()) as { error: string }).error, 'mesh_disabled')
  })
})

describe('POST /sync/reconcile as NDJSON (progress)', () => {
  const ndjson = async (url: string) => {
    const res = await fetch(`${url}/sync/reconcile`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: '{}',
    })
    return {
      status: res.status,
      lines: (await res.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    }
  }

  it('progress lines, then the result with done: true; the latest progress is never lost to the rate limit', async () => {
    const { mesh } = fakeMesh()
    const url = await start({
      ...mesh,
      reconcile: async (_peer, onProgress) => {
        onProgress?.({ peer: 'p', fetched: 0 })
        await new Promise((r) => setTimeout(r, 20))
        // Two reports at once, within the rate limit: the latest still goes out.
        for (const fetched of [10, 20]) onProgress?.({ peer: 'p', fetched })
        await new Promise((r) => setTimeout(r, 300))
        return [{ peer: 'p', need: 20 }]
      },
    })
    const { status, lines } = await ndjson(url)
    assert.equal(status, 200)
    assert.deepEqual(lines.at(-1), { sessions: [{ peer: 'p', need: 20 }], done: true })
    const fetched = lines.slice(0, -1).map((l) => l.progress.fetched)
    assert.deepEqual(fetched.at(-1), 20, `the latest progress is sent: ${JSON.stringify(lines)}`)
    assert.deepEqual(
      fetched,
      [0, 10, 20].filter((f) => fetched.includes(f)),
      'in order, each at most once',
    )
  })

  it('a failure after the first line is the last line, with done: false', async () => {
    const { mesh } = fakeMesh()
    const url = await start({
      ...mesh,
      reconcile: async (_peer, onProgress) => {
        onProgress?.({ peer: 'p', fetched: 1 })
        await new Promise((r) => setTimeout(r, 10))
        throw new Error('the peer hung up')
      },
    })
    const { status, lines } = await ndjson(url)
    assert.equal(status, 200)
    assert.deepEqual(lines.at(-1), {
      error: 'dial_failed',
      message: 'reconciliation failed: the peer hung up',
      done: false,
    })
  })

  it('a failure before the first progress report keeps its status (no stream)', async () => {
    const { mesh } = fakeMesh()
    const url = await start({
      ...mesh,
      reconcile: async () => {
        throw new Error('no route to the peer')
      },
    })
    const { status, lines } = await ndjson(url)
    assert.equal(status, 502)
    assert.deepEqual(lines, [
      { error: 'dial_failed', message: 'reconciliation failed: no route to the peer' },
    ])
  })

  it('errors found before any work keep their status (no stream)', async () => {
    const url = await start(undefined)
    const { status, lines } = await ndjson(url)
    assert.equal(status, 409)
    assert.equal(lines[0].error, 'mesh_disabled')
  })
})
