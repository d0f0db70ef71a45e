/**
 * The WAN profile's delay: a userspace TCP proxy on the hub (this kernel has no netem). For every
 * ordered pair of nodes (a, b) it listens on hub:proxyPort(a, b) and forwards to b's mesh port,
 * holding every chunk `delayMs` in each direction, in order. A side that queues more than
 * QUEUE_BYTES_MAX is paused until the other side drains (bounded memory). Counts bytes.
 */
import { connect, createServer, type Server, type Socket } from 'node:net'
import { HUB_IP, MESH_PORT, nodeIp } from './lab.ts'
import { proxyPort } from './netfaults.ts'

/** Bytes a direction may hold before its source is paused (bounded memory). */
const QUEUE_BYTES_MAX = 4 * 1024 * 1024

function delayedPipe(from: Socket, to: Socket, delayMs: number, count: (n: number) => void): void {
  const queue: Array<{ due: number; chunk: Buffer }> = []
  let queued = 0
  let timer: NodeJS.Timeout | undefined
  const flush = () => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0].due <= now) {
      const { chunk } = queue.shift()!
      queued -= chunk.length
      if (!to.destroyed) to.write(chunk)
    }
    if (queued < QUEUE_BYTES_MAX && from.isPaused()) from.resume()
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0].due - now))
  }
  from.on('data', (chunk: Buffer) => {
    count(chunk.length)
    queue.push({ due: performance.now() + delayMs, chunk })
    queued += chunk.length
    if (queued >= QUEUE_BYTES_MAX) from.pause()
    if (timer === undefined) timer = setTimeout(flush, delayMs)
  })
  const end = () => {
    // Deliver what is queued, then close.
    const last = queue.length > 0 ? queue[queue.length - 1].due - performance.now() : 0
    setTimeout(() => to.end(), Math.max(0, last) + 1)
  }
  from.on('end', end)
  from.on('close', () => {
    if (timer === undefined && queue.length === 0) to.destroy()
  })
  from.on('error', () => to.destroy())
}

export class DelayProxy {
  readonly #servers: Server[] = []
  readonly #sockets = new Set<Socket>()
  bytes = 0

  static async start(n: number, delayMs: number): Promise<DelayProxy> {
    const p = new DelayProxy()
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) await p.#listen(a, b, delayMs)
    return p
  }

  async #listen(a: number, b: number, delayMs: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect({ host: nodeIp(b), port: MESH_PORT })
      for (const s of [client, upstream]) {
        this.#sockets.add(s)
        s.on('close', () => this.#sockets.delete(s))
        s.setNoDelay(true)
      }
      const count = (k: number) => {
        this.bytes += k
      }
      delayedPipe(client, upstream, delayMs, count)
      delayedPipe(upstream, client, delayMs, count)
    })
    this.#servers.push(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(proxyPort(a, b), HUB_IP, () => resolve())
    })
  }

  close(): void {
    for (const s of this.#sockets) s.destroy()
    for (const s of this.#servers) s.close()
  }
}
