/**
 * A real Postgres engine for tests: PGlite (WASM Postgres) with pgvector, served over the
 * PostgreSQL wire protocol by @electric-sql/pglite-socket on 127.0.0.1 and an OS-picked port,
 * so the adapters reach it with `pg` exactly as they reach a production server.
 */
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

export interface PgliteServer {
  readonly url: string
  readonly db: PGlite
  stop(): Promise<void>
}

/** `dataDir` keeps the database on disk (restarts); in memory otherwise. */
export async function startPglite(dataDir?: string): Promise<PgliteServer> {
  const db = await PGlite.create(dataDir ?? 'memory://', { extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 })
  await server.start()
  const port = Number(server.getServerConn().split(':').pop())
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    db,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}
