/**
 * Neo4j sink (official `neo4j-driver`): graph edges as relationships (neo4j-queries.ts), the
 * checkpoint as a (:GkmCheckpoint {sink}) node, all of a batch in one write transaction.
 */
import neo4j, { type Driver } from 'neo4j-driver'
import type { EventType } from '../../core/types.ts'
import { SinkApplyError, SinkCheckpointMismatchError } from '../errors.ts'
import type { EdgeProjection, Sink, SinkBatch, TargetProjection } from '../index.ts'
import { CHECKPOINT_READ, CHECKPOINT_WRITE, decodeProperties, graphStatements } from './neo4j-queries.ts'

export interface Neo4jSinkInit {
  readonly name: string
  readonly types: readonly EventType[]
  /** bolt:// or neo4j:// URL; credentials as user:password@ in it (or none). */
  readonly url: string
}

function driverFor(url: string): Driver {
  const u = new URL(url)
  const auth =
    u.username === ''
      ? undefined
      : neo4j.auth.basic(decodeURIComponent(u.username), decodeURIComponent(u.password))
  u.username = ''
  u.password = ''
  return neo4j.driver(u.toString(), auth, { disableLosslessIntegers: true })
}

export class Neo4jSink implements Sink {
  readonly name: string
  readonly kind = 'neo4j'
  readonly types: readonly EventType[]
  readonly #url: string
  #driver: Driver | undefined

  constructor(init: Neo4jSinkInit) {
    this.name = init.name
    this.types = init.types
    this.#url = init.url
  }

  #d(): Driver {
    this.#driver ??= driverFor(this.#url)
    return this.#driver
  }

  async open(): Promise<void> {
    await this.#d().verifyConnectivity()
    const s = this.#d().session()
    try {
      await s.run('CREATE CONSTRAINT gkm_entity_id IF NOT EXISTS FOR (n:GkmEntity) REQUIRE n.id IS UNIQUE')
      await s.run(
        'CREATE CONSTRAINT gkm_checkpoint_sink IF NOT EXISTS FOR (n:GkmCheckpoint) REQUIRE n.sink IS UNIQUE',
      )
    } finally {
      await s.close()
    }
  }

  async checkpoint(): Promise<number> {
    const s = this.#d().session()
    try {
      const r = await s.run(CHECKPOINT_READ, { sink: this.name })
      return Number(r.records[0]?.get('seq') ?? 0)
    } finally {
      await s.close()
    }
  }

  async apply(batch: SinkBatch): Promise<void> {
    const s = this.#d().session()
    const tx = s.beginTransaction()
    try {
      const r = await tx.run(CHECKPOINT_READ, { sink: this.name })
      const stored = Number(r.records[0]?.get('seq') ?? 0)
      if (stored !== batch.fromSeq) throw new SinkCheckpointMismatchError(this.name, batch.fromSeq, stored)
      for (const c of batch.changes) {
        if (c.type !== 'graph_update') continue
        const edges = c.projection?.type === 'graph_update' ? c.projection.edges : []
        for (const st of graphStatements(c.id, edges)) await tx.run(st.text, st.params)
      }
      await tx.run(CHECKPOINT_WRITE, { sink: this.name, seq: batch.toSeq })
      await batch.beforeCommit?.()
      await tx.commit()
    } catch (err) {
      await tx.rollback().catch(() => {})
      if ((err as Error).name === 'SinkCheckpointMismatchError') throw err
      throw new SinkApplyError(
        `sink ${this.name}: batch (${batch.fromSeq}, ${batch.toSeq}] failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    } finally {
      await s.close()
    }
  }

  async snapshot(): Promise<TargetProjection[]> {
    const s = this.#d().session()
    try {
      const r = await s.run(
        'MATCH (a:GkmEntity)-[r]->(b:GkmEntity) WHERE r.gkm_graph IS NOT NULL RETURN r.gkm_graph AS graph, a.id AS from, type(r) AS label, b.id AS to, properties(r) AS props',
      )
      const graphs = new Map<string, EdgeProjection[]>()
      for (const rec of r.records) {
        const g = rec.get('graph') as string
        const list = graphs.get(g) ?? []
        list.push({
          from: rec.get('from'),
          label: rec.get('label'),
          to: rec.get('to'),
          properties: decodeProperties(rec.get('props')),
        })
        graphs.set(g, list)
      }
      return [...graphs].map(([id, edges]) => ({ type: 'graph_update', id, edges }))
    } finally {
      await s.close()
    }
  }

  async close(): Promise<void> {
    const d = this.#driver
    this.#driver = undefined
    await d?.close()
  }
}
