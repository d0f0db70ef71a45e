/** Inputs of the committed signed-event vectors (events.json). */
import type { EventFields } from '../../src/core/event-codec.ts'
import type { Digest } from '../../src/core/types.ts'

type Case = { name: string; seedByte: number; fields: Omit<EventFields, 'author'> }

export const VECTOR_CASES: Case[] = [
  {
    name: 'persona set, no parents',
    seedByte: 1,
    fields: {
      eventId: '0192d2c4-5b7e-7a10-8000-000000000001',
      type: 'persona_update',
      targetId: 'persona-42',
      payload: { op: 'set', fields: { name: 'Ada', langs: ['en', 'fr'] } },
      hlc: { wallMs: 1764123334123, counter: 0 },
      parents: [],
      log: '0102030405060708',
      seq: 0,
    },
  },
  {
    name: 'vector upsert with two parents, unicode target',
    seedByte: 2,
    fields: {
      eventId: '0192d2c4-5b7e-7a10-8000-000000000002',
      type: 'vector_update',
      targetId: 'index/émbeddings:7',
      payload: { op: 'upsert', values: [0.25, -1, 3.5e-7], metadata: { source: 'doc-9', z: null } },
      hlc: { wallMs: 1764123334999, counter: 65535 },
      parents: ['1'.repeat(64), 'a'.repeat(64)] as Digest[],
      log: '0a0b0c0d0e0f1011',
      seq: 41,
    },
  },
  {
    name: 'graph add_edge with properties',
    seedByte: 3,
    fields: {
      eventId: '0192d2c4-5b7e-7a10-8000-000000000003',
      type: 'graph_update',
      targetId: 'kg',
      payload: { op: 'add_edge', from: 'ada', label: 'knows', to: 'alan', properties: { since: 1936 } },
      hlc: { wallMs: 1, counter: 1 },
      parents: [],
      log: 'ffffffffffffffff',
      seq: 281474976710655,
    },
  },
  {
    name: 'document put',
    seedByte: 4,
    fields: {
      eventId: '0192d2c4-5b7e-7a10-8000-000000000004',
      type: 'document_update',
      targetId: 'docs/readme',
      payload: { op: 'put', content: 'hello\nworld', content_type: 'text/markdown' },
      hlc: { wallMs: 281474976710655, counter: 7 },
      parents: [],
      log: '0000000000000001',
      seq: 7,
    },
  },
]
