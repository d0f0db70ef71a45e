/**
 * MongoDB sink (official `mongodb` driver): personas and documents as MongoDB documents, the
 * checkpoint in `<prefix>checkpoints`, all of a batch in one multi-document transaction (which
 * needs a replica set or a sharded cluster: a standalone mongod refuses transactions, and the
 * sink then reports that error and pauses). Write builders: mongodb-queries.ts.
 */
import { type AnyBulkWriteOperation, type Document, MongoClient } from 'mongodb'
import type { EventType, JsonObject, JsonValue } from '../../core/types.ts'
import { SinkApplyError, SinkCheckpointMismatchError } from '../errors.ts'
import type { Sink, SinkBatch, TargetProjection } from '../index.ts'
import { documentWrite, personaWrite } from './mongodb-queries.ts'

export interface MongoDbSinkInit {
  readonly name: string
  readonly types: readonly EventType[]
  readonly prefix: string
  readonly url: string
}

export class MongoDbSink implements Sink {
  readonly name: string
  readonly kind = 'mongodb'
  readonly types: readonly EventType[]
  readonly #init: MongoDbSinkInit
  #client: MongoClient | undefined

  constructor(init: MongoDbSinkInit) {
    this.#init = init
    this.name = init.name
    this.types = init.types
  }

  #db() {
    this.#client ??= new MongoClient(this.#init.url, { serverSelectionTimeoutMS: 5_000 })
    const db = this.#client.db()
    const p = this.#init.prefix
    return {
      client: this.#client,
      personas: db.collection<Document & { _id: string }>(`${p}personas`),
      documents: db.collection<Document & { _id: string }>(`${p}documents`),
      checkpoints: db.collection<{ _id: string; seq: number }>(`${p}checkpoints`),
    }
  }

  async open(): Promise<void> {
    await this.#db().client.connect()
  }

  async checkpoint(): Promise<number> {
    const doc = await this.#db().checkpoints.findOne({ _id: this.name })
    return doc?.seq ?? 0
  }

  async apply(batch: SinkBatch): Promise<void> {
    const c = this.#db()
    const session = c.client.startSession()
    try {
      await session.withTransaction(async () => {
        const cp = await c.checkpoints.findOne({ _id: this.name }, { session })
        const stored = cp?.seq ?? 0
        if (stored !== batch.fromSeq) throw new SinkCheckpointMismatchError(this.name, batch.fromSeq, stored)
        const personas = batch.changes.filter((x) => x.type === 'persona_update')
        const existing = new Map<string, JsonObject>()
        if (personas.length > 0) {
          for (const d of await c.personas
            .find({ _id: { $in: personas.map((x) => x.id) } }, { session, projection: { fields: 1 } })
            .toArray())
            existing.set(d._id, (d.fields ?? {}) as JsonObject)
        }
        const pOps: AnyBulkWriteOperation<Document & { _id: string }>[] = []
        for (const x of personas) {
          const op = personaWrite(
            x.id,
            existing.get(x.id),
            x.projection?.type === 'persona_update' ? x.projection : undefined,
          )
          if (op !== undefined) pOps.push(op as AnyBulkWriteOperation<Document & { _id: string }>)
        }
        const dOps = batch.changes
          .filter((x) => x.type === 'document_update')
          .map(
            (x) =>
              documentWrite(
                x.id,
                x.projection?.type === 'document_update' ? x.projection : undefined,
              ) as AnyBulkWriteOperation<Document & { _id: string }>,
          )
        if (pOps.length > 0) await c.personas.bulkWrite(pOps, { session, ordered: true })
        if (dOps.length > 0) await c.documents.bulkWrite(dOps, { session, ordered: true })
        await c.checkpoints.updateOne(
          { _id: this.name },
          { $set: { seq: batch.toSeq } },
          { session, upsert: true },
        )
        await batch.beforeCommit?.()
      })
    } catch (err) {
      if ((err as Error).name === 'SinkCheckpointMismatchError') throw err
      throw new SinkApplyError(
        `sink ${this.name}: batch (${batch.fromSeq}, ${batch.toSeq}] failed: ${(err as Error).message}`,
        {
          cause: err,
        },
      )
    } finally {
      await session.endSession()
    }
  }

  async snapshot(): Promise<TargetProjection[]> {
    const c = this.#db()
    const out: TargetProjection[] = []
    if (this.types.includes('persona_update'))
      for (const d of await c.personas.find().toArray())
        out.push({
          type: 'persona_update',
          id: d._id,
          fields: (d.fields ?? {}) as JsonObject,
          crdt: (d.crdt ?? null) as JsonValue,
        })
    if (this.types.includes('document_update'))
      for (const d of await c.documents.find().toArray())
        out.push({
          type: 'document_update',
          id: d._id,
          content: (d.content ?? null) as string | null,
          contentType: (d.content_type ?? null) as string | null,
          crdt: (d.crdt ?? null) as string | null,
        })
    return out
  }

  async close(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    await client?.close()
  }
}
