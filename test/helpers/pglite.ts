/**
 * A real Postgres engine for tests: PGlite (WASM Postgres) with pgvector, served over the
 * PostgreSQL wire protocol by @electric-sql/pglite-socket on 127.0.0.1 and an OS-picked port,
 * so the adapters reach it with `pg` exactly as they reach a production server.
 *
 * PGlite runs synchronously on the thread that holds it: in-process (the default) every query
 * stops that thread's event loop, node included. `{ thread: true }` runs it in a worker thread
 * instead, as a Postgres server runs in a process of its own (the benchmarks use it, so a
 * figure is the sink's and not the node and the database taking turns on one thread).
 */
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

export interface PgliteServer {
  readonly url: string
  /** The engine, when it runs in this thread (undefined with `thread: true`). */
  readonly db: PGlite | undefined
  /** CPU time (ms, user + system) the engine's thread has used: with `thread: true` only. */
  cpuMs?(): Promise<number>
  stop(): Promise<void>
}

export interface PgliteOptions {
  /** Keep the database on disk (restarts); in memory otherwise. */
  readonly dataDir?: string
  /** Run PGlite and its socket server in a worker thread. */
  readonly thread?: boolean
}

const urlOf = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`

export async function startPglite(opts: PgliteOptions | string = {}): Promise<PgliteServer> {
  const { dataDir, thread } = typeof opts === 'string' ? { dataDir: opts, thread: false } : opts
  if (thread === true) return startPgliteThread(dataDir)
  const db = await PGlite.create(dataDir ?? 'memory://', { extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 })
  await server.start()
  return {
    url: urlOf(Number(server.getServerConn().split(':').pop())),
    db,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}

async function startPgliteThread(dataDir: string | undefined): Promise<PgliteServer> {
  const worker = new Worker(new URL('./pglite-thread.ts', import.meta.url), { workerData: { dataDir } })
  const [first] = (await Promise.race([
    once(worker, 'message'),
    once(worker, 'error').then(([err]) => Promise.reject(err)),
  ])) as [{ port: number }]
  return {
    url: urlOf(first.port),
    db: undefined,
    async cpuMs() {
      const reply = once(worker, 'message')
      worker.postMessage('cpu')
      const [{ cpu }] = (await reply) as [{ cpu: { user: number; system: number } }]
      return (cpu.user + cpu.system) / 1000
    },
    async stop() {
      const stopped = once(worker, 'message')
      worker.postMessage('stop')
      await Promise.race([stopped, once(worker, 'exit')])
      await worker.terminate()
    },
  }
}
