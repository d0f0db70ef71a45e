/**
 * Postgres source: writes an application makes directly in the sink's tables (gkm_personas,
 * gkm_vectors, ...) become pushes to the node. Triggers fill an outbox (postgres-source-schema.ts);
 * `poll()` takes a bounded batch in id order, pushes it as local writes with the event ids the
 * rows carry, and deletes what the node stored (accepted or duplicate) in one transaction. A row
 * the node refuses keeps its error in the `error` column and is not offered again; the operator
 * sees it there.
 */
import pg from 'pg'
import type { JsonObject } from '../../core/types.ts'
import type { SinkLogger } from '../index.ts'
import { createStatements } from './postgres-schema.ts'
import { sourceInstallStatements, sourceTableNames } from './postgres-source-schema.ts'

/** Rows per poll: one push (the node takes at most 1,000 events per push). */
export const SOURCE_BATCH_MAX = 500
/** Poll interval when the outbox was empty: a direct write reaches the node within ~this. */
export const SOURCE_POLL_MS = 200

export interface PushPort {
  push(
    events: Array<{ event_id: string; event_type: string; target_id: string; payload: JsonObject }>,
  ): Promise<{ rejected: Array<{ event_id: string | null; error: string; message: string }> }>
}

export interface PostgresSourceInit {
  readonly name: string
  readonly prefix: string
  readonly connectionString: string
  readonly batchMax?: number
  readonly pollMs?: number
}

export class PostgresSource {
  readonly name: string
  readonly #init: PostgresSourceInit
  readonly #push: PushPort
  readonly #log: SinkLogger
  #pool: pg.Pool | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #wake: (() => void) | undefined
  #running: Promise<void> | undefined
  #stopping = false
  pushed = 0
  refused = 0

  constructor(init: PostgresSourceInit, push: PushPort, logger: SinkLogger) {
    this.name = init.name
    this.#init = init
    this.#push = push
    this.#log = logger
  }

  #p(): pg.Pool {
    this.#pool ??= new pg.Pool({
      connectionString: this.#init.connectionString,
      max: 1,
      connectionTimeoutMillis: 10_000,
    })
    // Idle or checked out, a connection that dies fails its query, never the node (as the sink).
    this.#pool.on('error', () => {})
    this.#pool.on('connect', (client) => client.on('error', () => {}))
    return this.#pool
  }

  /** Creates the sink's tables if missing, the outbox and the triggers. Idempotent. */
  async install(): Promise<void> {
    const c = await this.#p().connect()
    try {
      for (const sql of createStatements(this.#init.prefix, [
        'vector_update',
        'persona_update',
        'document_update',
        'graph_update',
      ]))
        await c.query(sql)
      for (const sql of sourceInstallStatements(this.#init.prefix)) await c.query(sql)
    } finally {
      c.release()
    }
  }

  /** Pushes one batch of the outbox; returns how many rows it took. */
  async poll(): Promise<number> {
    const t = sourceTableNames(this.#init.prefix)
    const c = await this.#p().connect()
    let broken: Error | undefined
    try {
      await c.query('BEGIN')
      const rows = await c.query<{
        id: string
        event_id: string
        event_type: string
        target_id: string
        payload: JsonObject
      }>(
        `SELECT id, event_id::text AS event_id, event_type, target_id, payload FROM ${t.outbox} WHERE error IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.#init.batchMax ?? SOURCE_BATCH_MAX],
      )
      if (rows.rows.length === 0) {
        await c.query('COMMIT')
        return 0
      }
      const result = await this.#push.push(
        rows.rows.map((r) => ({
          event_id: r.event_id,
          event_type: r.event_type,
          target_id: r.target_id,
          payload: r.payload,
        })),
      )
      const refused = new Map(result.rejected.map((r) => [r.event_id, `${r.error}: ${r.message}`]))
      const done = rows.rows.filter((r) => !refused.has(r.event_id)).map((r) => r.id)
      await c.query(`DELETE FROM ${t.outbox} WHERE id = ANY($1::bigint[])`, [done])
      for (const r of rows.rows) {
        const why = refused.get(r.event_id)
        if (why !== undefined) await c.query(`UPDATE ${t.outbox} SET error = $2 WHERE id = $1`, [r.id, why])
      }
      await c.query('COMMIT')
      this.pushed += done.length
      if (refused.size > 0) {
        this.refused += refused.size
        this.#log.warn('source rows refused by the node (kept in the outbox with their error)', {
          source: this.name,
          refused: refused.size,
          first: [...refused.values()][0],
        })
      }
      return rows.rows.length
    } catch (err) {
      await c.query('ROLLBACK').catch((e: Error) => {
        broken = e
      })
      throw err
    } finally {
      c.release(broken)
    }
  }

  /** Polls until stop(): at once while batches are full, every pollMs otherwise. */
  start(): void {
    const loop = async () => {
      while (!this.#stopping) {
        let n = 0
        try {
          n = await this.poll()
        } catch (err) {
          this.#log.warn('source poll failed; retrying', {
            source: this.name,
            message: (err as Error).message,
          })
        }
        if (n < (this.#init.batchMax ?? SOURCE_BATCH_MAX) && !this.#stopping)
          await new Promise<void>((r) => {
            this.#wake = r
            this.#timer = setTimeout(r, this.#init.pollMs ?? SOURCE_POLL_MS)
          })
      }
    }
    this.#running = loop()
  }

  async stop(): Promise<void> {
    this.#stopping = true
    clearTimeout(this.#timer)
    this.#wake?.()
    await this.#running?.catch(() => {})
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end()
  }
}
