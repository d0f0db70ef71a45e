/** The MongoDB and Neo4j write builders (pure), checked without a server. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { documentWrite, personaWrite } from '../../../src/adapters/mongodb/mongodb-queries.ts'
import {
  decodeProperties,
  encodeProperties,
  graphStatements,
  quoteIdentifier,
} from '../../../src/adapters/neo4j/neo4j-queries.ts'

const persona = (fields: Record<string, unknown>, crdt: unknown = null) =>
  ({ type: 'persona_update', id: 'p', fields, crdt }) as never

describe('mongodb builders', () => {
  it('a new persona sets its whole fields object, upserted by id', () => {
    assert.deepEqual(personaWrite('p', undefined, persona({ name: 'Ada' })), {
      updateOne: {
        filter: { _id: 'p' },
        update: { $set: { crdt: null, fields: { name: 'Ada' } } },
        upsert: true,
      },
    })
  })
  it('an existing persona: $set only changed fields, $unset the removed ones', () => {
    const op = personaWrite(
      'p',
      { name: 'Ada', born: 1815, city: 'London' },
      persona({ name: 'Ada L.', born: 1815, langs: ['en'] }),
    )
    assert.deepEqual(op, {
      updateOne: {
        filter: { _id: 'p' },
        update: {
          $set: { crdt: null, 'fields.name': 'Ada L.', 'fields.langs': ['en'] },
          $unset: { 'fields.city': '' },
        },
        upsert: true,
      },
    })
  })
  it('field names a dotted path cannot hold make it set the whole fields object', () => {
    const op = personaWrite('p', { a: 1 }, persona({ 'x.y': 2, $z: 3 })) as {
      updateOne: { update: { $set: Record<string, unknown> } }
    }
    assert.deepEqual(op.updateOne.update, { $set: { crdt: null, fields: { 'x.y': 2, $z: 3 } } })
  })
  it('an absent persona is deleted, and nothing is written for one never stored', () => {
    assert.deepEqual(personaWrite('p', { a: 1 }, undefined), { deleteOne: { filter: { _id: 'p' } } })
    assert.equal(personaWrite('p', undefined, undefined), undefined)
  })
  it('documents: upsert of content, type and Yjs text; delete when absent', () => {
    assert.deepEqual(
      documentWrite('d', {
        type: 'document_update',
        id: 'd',
        content: 'hi',
        contentType: 'text/plain',
        crdt: null,
      }),
      {
        updateOne: {
          filter: { _id: 'd' },
          update: { $set: { content: 'hi', content_type: 'text/plain', crdt: null } },
          upsert: true,
        },
      },
    )
    assert.deepEqual(documentWrite('d', undefined), { deleteOne: { filter: { _id: 'd' } } })
  })
})

describe('neo4j builders', () => {
  it('quotes a relationship type as an identifier, backticks doubled', () => {
    assert.equal(quoteIdentifier('knows'), '`knows`')
    assert.equal(quoteIdentifier('wrote `about`'), '`wrote ``about```')
  })
  it('a graph: one delete of edges no longer there, then one MERGE per label, properties replaced', () => {
    const st = graphStatements('g', [
      { from: 'ada', label: 'knows', to: 'babbage', properties: { since: 1833 } },
      { from: 'ada', label: 'wrote about', to: 'engine', properties: {} },
      { from: 'babbage', label: 'knows', to: 'ada', properties: {} },
    ])
    assert.equal(st.length, 3)
    assert.match(st[0].text, /^MATCH .* NOT \[a\.id, type\(r\), b\.id\] IN \$keep DELETE r$/)
    assert.deepEqual(st[0].params.keep, [
      ['ada', 'knows', 'babbage'],
      ['ada', 'wrote about', 'engine'],
      ['babbage', 'knows', 'ada'],
    ])
    assert.match(st[1].text, /MERGE \(a\)-\[r:`knows` \{gkm_graph: \$graph\}\]->\(b\) SET r = e\.props$/)
    assert.equal((st[1].params.edges as unknown[]).length, 2)
    assert.match(st[2].text, /\[r:`wrote about` /)
  })
  it('an empty graph only deletes', () => {
    const st = graphStatements('g', [])
    assert.equal(st.length, 1)
    assert.deepEqual(st[0].params, { graph: 'g', keep: [] })
  })
  it('properties round-trip: primitives and primitive arrays native, other JSON as text', () => {
    const props = {
      since: 1833,
      name: 'x',
      ok: true,
      tags: ['a', 'b'],
      via: { who: 'S' },
      none: null,
      mixed: [1, 'a'],
      empty: [],
    }
    const enc = encodeProperties('g', props as never)
    assert.equal(enc.since, 1833)
    assert.deepEqual(enc.tags, ['a', 'b'])
    assert.equal(enc.via, '{"who":"S"}')
    assert.deepEqual(enc.gkm_json, ['empty', 'mixed', 'none', 'via'])
    assert.equal(enc.gkm_graph, 'g')
    assert.deepEqual(decodeProperties(enc), props)
  })
})
