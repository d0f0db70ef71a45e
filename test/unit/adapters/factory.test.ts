/** Sink configuration: the --sink flag, the config file's `sinks`, and createSink's checks. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSink, parseSinkFlag } from '../../../src/adapters/index.ts'
import { loadConfig } from '../../../src/config/index.ts'

describe('sink configuration', () => {
  it('--sink kind=target, repeatable, added to the config file sinks; a lancedb dir made absolute', () => {
    const c = loadConfig({
      env: {},
      cwd: '/srv',
      values: { sinks: [{ kind: 'neo4j', target: 'bolt://g:7687', name: 'graph' }] },
      flags: { sinks: ['postgres=postgres://app@db:5432/app?sslmode=disable', 'lancedb=vectors'] },
    })
    assert.deepEqual(c.sinks, [
      { kind: 'neo4j', target: 'bolt://g:7687', name: 'graph' },
      { kind: 'postgres', target: 'postgres://app@db:5432/app?sslmode=disable' },
      { kind: 'lancedb', target: '/srv/vectors' },
    ])
  })
  it('no sinks by default', () => {
    assert.deepEqual(loadConfig({ env: {} }).sinks, [])
  })
  it('refuses an unknown kind, an empty target, a bad prefix or name, with the field named', () => {
    assert.throws(
      () => loadConfig({ env: {}, flags: { sinks: ['redis=x'] } }),
      /sinks\.0\.kind: must be one of postgres, lancedb, mongodb, neo4j/,
    )
    assert.throws(() => loadConfig({ env: {}, flags: { sinks: ['postgres='] } }), /sinks\.0\.target/)
    assert.throws(
      () =>
        loadConfig({ env: {}, values: { sinks: [{ kind: 'postgres', target: 'x', prefix: 'Drop Table' }] } }),
      /sinks\.0\.prefix/,
    )
    assert.throws(
      () => loadConfig({ env: {}, values: { sinks: [{ kind: 'postgres', target: 'x', nmae: 'a' }] } }),
      /sinks\.0\.nmae: unknown key/,
    )
  })
  it('parseSinkFlag names what is wrong', () => {
    assert.deepEqual(parseSinkFlag('lancedb=./v'), { kind: 'lancedb', target: './v' })
    assert.throws(
      () => parseSinkFlag('sqlite=x'),
      (e: Error) => e.name === 'SinkConfigError' && /one of postgres/.test(e.message),
    )
    assert.throws(() => parseSinkFlag('postgres'), /connection URL/)
  })
  it('createSink refuses types a kind does not store, and builds each kind lazily', async () => {
    await assert.rejects(
      createSink({ kind: 'lancedb', target: '/tmp/x', types: ['persona_update'] }),
      (e: Error) =>
        e.name === 'SinkConfigError' && /stores vector_update, not persona_update/.test(e.message),
    )
    const s = await createSink({ kind: 'postgres', target: 'postgres://127.0.0.1:1/x' })
    assert.equal(s.kind, 'postgres')
    assert.deepEqual(s.types, ['vector_update', 'persona_update', 'document_update', 'graph_update'])
    const n = await createSink({ kind: 'neo4j', target: 'bolt://127.0.0.1:1', name: 'g' })
    assert.equal(n.name, 'g')
    assert.deepEqual(n.types, ['graph_update'])
    await s.close()
    await n.close()
  })
})
