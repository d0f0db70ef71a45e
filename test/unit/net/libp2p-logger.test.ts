/** libp2p's component logs routed into the node's logger: levels, formatting, cost when off. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { libp2pLogger } from '../../../src/net/index.ts'

function sink(levels: string[]) {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = []
  return {
    lines,
    isLevelEnabled: (l: string) => levels.includes(l),
    debug: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'debug', fields, msg }),
    trace: (fields: Record<string, unknown>, msg: string) => lines.push({ level: 'trace', fields, msg }),
  }
}

test('libp2p error lines go to debug, the rest to trace, with the component and formatted text', () => {
  const s = sink(['debug', 'trace'])
  const log = libp2pLogger(s).forComponent('libp2p:dialer')
  log('dialling %p on %a', '12D3KooWPeer', '/ip4/127.0.0.1/tcp/1')
  log.error('dial failed - %e', new Error('ECONNREFUSED'))
  log.newScope('queue').trace('%d queued', 3)
  assert.deepEqual(s.lines, [
    {
      level: 'trace',
      fields: { libp2p: 'libp2p:dialer' },
      msg: 'dialling 12D3KooWPeer on /ip4/127.0.0.1/tcp/1',
    },
    { level: 'debug', fields: { libp2p: 'libp2p:dialer' }, msg: 'dial failed - ECONNREFUSED' },
    { level: 'trace', fields: { libp2p: 'libp2p:dialer:queue' }, msg: '3 queued' },
  ])
  assert.equal(log.enabled, true)
})

test('nothing is formatted or written when the levels are off (info)', () => {
  const s = sink([])
  const log = libp2pLogger(s).forComponent('libp2p:x')
  log('a %o', {
    toJSON() {
      throw new Error('formatted although disabled')
    },
  })
  log.error('b')
  assert.equal(s.lines.length, 0)
  assert.equal(log.enabled, false)
})
