/**
 * One author rule for live admission and the start-up rebuild (src/core/authors.ts): a node
 * whose members list leaves out its own key keeps its own events live, and a rebuild from the
 * log reaches the same state hash (it used to skip them: the rebuild admitted by the members
 * list alone).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { loadConfig } from '../../../src/config/index.ts'
import { admittedAuthors } from '../../../src/core/authors.ts'
import { startNode } from '../../../src/node/index.ts'
import { makeEvent, testSigner } from '../../helpers/events.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('admittedAuthors', () => {
  it('is undefined (open) without a members list', () => {
    assert.equal(admittedAuthors(undefined, 'aa'), undefined)
  })
  it('is the members plus the node itself, in lowercase', () => {
    assert.deepEqual([...(admittedAuthors(['AB', 'cd'], 'EF') ?? [])].sort(), ['ab', 'cd', 'ef'])
  })
})

describe('the author rule, live and on rebuild', () => {
  it('a store with the node’s own events and a members list without its key rebuilds to the same state hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-authors-'))
    const member = testSigner(31)
    const config = loadConfig({
      env: {},
      values: { members: [hex(member.publicKey)] },
      flags: { dataDir: dir, http: '127.0.0.1:0', mesh: false, mdns: false },
    })
    let node = await startNode(config)
    try {
      assert.ok(!config.members?.includes(node.publicKey), 'the members list leaves the node out')
      // Own writes (signed by the node) and a member's signed event.
      const own = await node.api.push(
        [
          { event_type: 'persona_update', target_id: 'p1', payload: { op: 'set', fields: { n: 1 } } },
          { event_type: 'persona_update', target_id: 'p2', payload: { op: 'set', fields: { n: 2 } } },
        ],
        { kind: 'local', id: 'test' },
      )
      assert.equal(own.accepted, 2)
      const theirs = makeEvent(member, { target: 'p1', payload: { op: 'set', fields: { m: 1 } } })
      const r = await node.api.pushSigned([{ signed: theirs.signed, signature: theirs.signature }], {
        kind: 'peer',
        id: 'test',
      })
      assert.equal(r.accepted, 1)
      const live = await node.api.status()
      await node.stop()
      node = await startNode(config, { rebuild: true })
      assert.equal(node.replay.rebuilt, true)
      assert.equal(node.replay.skipped, 0, 'no event of the log is skipped by the rebuild')
      assert.equal(node.replay.events, 3)
      const rebuilt = await node.api.status()
      assert.equal(rebuilt.state_hash, live.state_hash)
    } finally {
      await node.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
