/**
 * Kill -9 mid-ingest: every event whose push was acknowledged is there after a restart, and the
 * state equals a rebuild from the log. (kill -9 lets the OS flush written pages; power loss is
 * covered by the ack ordering: acknowledged only after a synced batch.)
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { after, describe, it } from 'node:test'
import { fieldsFromJson } from '../../src/core/event.ts'
import { digestOf, encodeSigned } from '../../src/core/event-codec.ts'
import { postJson } from '../helpers/node.ts'

const CHILD = new URL('../helpers/node-child.ts', import.meta.url).pathname

async function startChild(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('node did not start within 30 s')), 30_000)
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('"starting"')) return // the child began to start the node
      clearTimeout(timer)
      resolve(l)
    })
    child.once('exit', (code) => reject(new Error(`node exited with ${code}`)))
  })
  return { child, url: (JSON.parse(line) as { url: string }).url }
}

describe('crash and replay', () => {
  const cleanup: Array<() => Promise<void>> = []
  after(async () => {
    for (const c of cleanup.reverse()) await c()
  })

  it('finds every acknowledged event after kill -9 mid-ingest', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-crash-'))
    cleanup.push(() => rm(dir, { recursive: true, force: true }))
    const first = await startChild(dir)
    cleanup.push(async () => void first.child.kill('SIGKILL'))
    const acked = new Set<string>()
    let sent = 0
    let killed = false
    const writer = async (w: number) => {
      // Bounded: at most 60 batches per writer, stops at the kill.
      for (let b = 0; b < 60 && !killed; b++) {
        const batch = Array.from({ length: 200 }, (_, i) => ({
          event_type: 'persona_update',
          target_id: `p-${w}-${(b * 200 + i) % 300}`,
          payload: { op: 'set', fields: { n: b * 200 + i } },
        }))
        sent += batch.length
        try {
          const r = await postJson(`${first.url}/sync/push`, batch)
          if (r.status === 200) for (const d of r.body.digests as string[]) acked.add(d)
        } catch {
          return // connection reset by the kill
        }
      }
    }
    const writers = [0, 1, 2].map(writer)
    const deadline = Date.now() + 60_000
    while (acked.size < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
    first.child.kill('SIGKILL')
    killed = true
    await Promise.all(writers)
    assert.ok(acked.size >= 2000, `only ${acked.size} events were acknowledged before the deadline`)
    assert.ok(sent > acked.size, 'the kill came while pushes were in flight')

    const second = await startChild(dir)
    cleanup.push(async () => void second.child.kill('SIGKILL'))
    const stored = new Set<string>()
    let cursor: string | undefined
    for (let page = 0; page < 1000; page++) {
      const r = await postJson(`${second.url}/sync/pull`, { cursor, limit: 5000 })
      assert.equal(r.status, 200)
      for (const e of r.body.events as unknown[]) stored.add(digestOf(encodeSigned(fieldsFromJson(e).fields)))
      cursor = r.body.next_cursor
      if (!r.body.has_more) break
    }
    const status = (await (await fetch(`${second.url}/status`)).json()) as {
      events: number
      state_hash: string
    }
    assert.ok(status.events >= acked.size, `stored ${status.events} < acknowledged ${acked.size}`)
    assert.ok(status.events <= sent)
    assert.equal(stored.size, status.events)
    for (const d of acked) assert.ok(stored.has(d), `acknowledged event ${d} is missing after restart`)
    second.child.kill('SIGTERM')
    await new Promise((r) => second.child.once('exit', r))

    // Rebuild from the log gives the same state hash.
    const { loadConfig } = await import('../../src/config/index.ts')
    const { startNode } = await import('../../src/node/index.ts')
    const rebuilt = await startNode(
      loadConfig({ env: {}, flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false } }),
      { rebuild: true },
    )
    try {
      assert.equal((await rebuilt.api.status()).state_hash, status.state_hash)
      assert.equal(rebuilt.replay.events, status.events)
    } finally {
      await rebuilt.stop()
    }
  })
})
