/**
 * Worker-thread entry of startPglite({ thread: true }): PGlite + pgvector behind its socket
 * server on 127.0.0.1 and an OS-picked port, in a thread of its own, as a Postgres server is a
 * process of its own. Posts `{ port }` once listening; stops and closes on `'stop'`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

const port = parentPort
if (port === null) throw new Error('pglite-thread.ts runs as a worker thread')
const { dataDir } = workerData as { dataDir?: string }
const db = await PGlite.create(dataDir ?? 'memory://', { extensions: { vector } })
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 })
await server.start()
port.on('message', async (m) => {
  // The engine thread's own CPU time (benchmarks: Postgres's cost, whatever the machine's load).
  if (m === 'cpu') return port.postMessage({ cpu: process.threadCpuUsage() })
  if (m !== 'stop') return
  await server.stop()
  await db.close()
  port.postMessage({ stopped: true })
  port.close()
})
port.postMessage({ port: Number(server.getServerConn().split(':').pop()) })
