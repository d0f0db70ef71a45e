/**
 * Slow and greedy clients (issue 9, defect 8): a request that trickles in is cut off after the
 * request timeout, headers that trickle in after the headers timeout, and connections beyond the
 * cap are closed as they arrive. The limits are shrunk here (docs/LIMITS.md has the real ones)
 * so the test takes a few seconds; every sending loop is bounded in count.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { createHttpApi, type HttpApi } from '../../../src/http/index.ts'
import { FakeApi, recordingLog } from './fake-api.ts'

const LIMITS = {
  connectionsMax: 4,
  headersTimeoutMs: 600,
  requestTimeoutMs: 1_200,
  timeoutCheckIntervalMs: 100,
}

interface Client {
  socket: Socket
  received: () => string
  closed: Promise<void>
  isClosed: () => boolean
}

async function open(port: number): Promise<Client> {
  const socket = connect({ host: '127.0.0.1', port })
  let text = ''
  let closed = false
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => {
    text += d
  })
  socket.on('error', () => {})
  const done = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true
      resolve()
    }),
  )
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { socket, received: () => text, closed: done, isClosed: () => closed }
}

/** Writes one byte at a time, `gapMs` apart, until the text is sent or the socket closes. */
async function trickle(c: Client, text: string, gapMs: number): Promise<number> {
  let sent = 0
  for (const ch of text) {
    if (c.isClosed() || c.socket.destroyed) break
    c.socket.write(ch)
    sent++
    await delay(gapMs)
  }
  return sent
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

describe('HTTP server against slow clients', () => {
  let http: HttpApi
  let port: number
  const clients: Client[] = []
  before(async () => {
    http = createHttpApi(new FakeApi(), {
      host: '127.0.0.1',
      port: 0,
      bodyBytesMax: 64 * 1024,
      log: recordingLog(),
      connections: LIMITS,
    })
    port = (await http.listen()).port
  })
  after(async () => {
    for (const c of clients) c.socket.destroy()
    await http.close()
  })

  it('cuts off a body that arrives a byte at a time, after the request timeout', async () => {
    const c = await open(port)
    clients.push(c)
    const body = '['.padEnd(400, ' ')
    c.socket.write(
      `POST /sync/push HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
    )
    // 400 bytes 50 ms apart would take 20 s; the request timeout is 1.2 s.
    const sent = await trickle(c, body, 50)
    await within(c.closed, 10_000, 'connection closed')
    assert.ok(sent < body.length, `cut off after ${sent} of ${body.length} bytes`)
    assert.match(c.received(), /^$|^HTTP\/1\.1 408/)
  })

  it('cuts off headers that arrive a byte at a time, after the headers timeout', async () => {
    const c = await open(port)
    clients.push(c)
    const head = `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(300)}\r\n\r\n`
    const sent = await trickle(c, head, 50)
    await within(c.closed, 10_000, 'connection closed')
    assert.ok(sent < head.length, `cut off after ${sent} of ${head.length} bytes`)
    assert.doesNotMatch(c.received(), /200 OK/)
  })

  it('closes connections beyond the cap as they arrive, and takes new ones when one closes', async () => {
    const held: Client[] = []
    for (let i = 0; i < LIMITS.connectionsMax; i++) {
      const c = await open(port)
      clients.push(c)
      held.push(c)
      c.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n') // answered, then kept alive
      await within(
        (async () => {
          while (!/\{"ok":true\}/.test(c.received())) await delay(10)
        })(),
        5_000,
        `connection ${i} answered`,
      )
    }
    const extra = await open(port)
    clients.push(extra)
    extra.socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n')
    await within(extra.closed, 5_000, 'connection over the cap closed')
    assert.equal(extra.received(), '', 'no answer over the cap')

    held[0].socket.destroy()
    await held[0].closed
    const res = await within(
      (async () => {
        // The server notices the closed socket on its next turn: retry a bounded number of times.
        for (let i = 0; i < 50; i++) {
          try {
            return await fetch(`http://127.0.0.1:${port}/health`, { headers: { connection: 'close' } })
          } catch {
            await delay(20)
          }
        }
        throw new Error('no connection taken after one closed')
      })(),
      5_000,
      'a new connection after one closed',
    )
    assert.equal(res.status, 200)
  })
})
