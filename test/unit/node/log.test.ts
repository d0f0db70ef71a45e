/** The node's logger: JSON lines by default, one human-readable line per entry when pretty. */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLogger } from '../../../src/node/index.ts'

function sink() {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk))
      done()
    },
  })
  return { stream, text: () => chunks.join('') }
}

test('JSON lines with level, time, msg and fields; levels below the configured one are dropped', () => {
  const out = sink()
  const log = createLogger({ level: 'info', destination: out.stream })
  log.debug('not written')
  log.info({ peer: 'p1', reason: 'closed by the peer' }, 'peer disconnected')
  const lines = out
    .text()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
  assert.equal(lines.length, 1)
  assert.equal(lines[0].level, 30)
  assert.equal(lines[0].msg, 'peer disconnected')
  assert.equal(lines[0].peer, 'p1')
  assert.equal(typeof lines[0].time, 'number')
})

test('pretty: one readable line per entry, fields inline', () => {
  const out = sink()
  const log = createLogger({ level: 'info', destination: out.stream, pretty: true })
  log.warn({ commitMs: 1200 }, 'slow commit')
  assert.match(out.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: slow commit \{"commitMs":1200\}\n$/)
})
