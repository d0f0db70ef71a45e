import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { after, describe, it } from 'node:test'
import { InvalidRequestError } from '../../../src/core/errors.ts'
import { createHttpApi, type HttpApi, type HttpApiInit } from '../../../src/http/index.ts'
import { eventToJson, FakeApi, makeEvents, recordingLog } from './fake-api.ts'

interface Server {
  api: FakeApi
  http: HttpApi
  url: string
}

const servers: HttpApi[] = []
after(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function start(init: Partial<HttpApiInit> = {}): Promise<Server> {
  const api = new FakeApi()
  const http = createHttpApi(api, {
    host: '127.0.0.1',
    port: 0,
    bodyBytesMax: 64 * 1024,
    log: recordingLog(),
    ...init,
  })
  servers.push(http)
  const { host, port } = await http.listen()
  return { api, http, url: `http://${host}:${port}` }
}

/** Reads an SSE response body as text, chunk by chunk, until `until(text)` holds or it ends. */
class SseReader {
  text = ''
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>
  readonly #decoder = new TextDecoder()
  ended = false

  constructor(res: Response) {
    this.#reader = res.body!.getReader()
  }

  async until(cond: (text: string) => boolean): Promise<string> {
    const deadline = Date.now() + 5000
    while (!cond(this.text)) {
      if (this.ended) throw new Error(`stream ended before the condition held; got:\n${this.text}`)
      if (Date.now() > deadline) throw new Error(`timed out; got:\n${this.text}`)
      const { done, value } = await this.#reader.read()
      if (done) this.ended = true
      else this.text += this.#decoder.decode(value, { stream: true })
    }
    return this.text
  }

  async toEnd(): Promise<string> {
    await this.until(() => this.ended).catch((err) => {
      if (!this.ended) throw err
    })
    return this.text
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel()
  }
}

/** The data frames (`id:` + `data:`) of an SSE text. */
function dataFrames(text: string): Array<{ id: number; data: unknown }> {
  return text
    .split('\n\n')
    .filter((f) => f.startsWith('id: '))
    .map((f) => {
      const [idLine, dataLine] = f.split('\n')
      return { id: Number(idLine.slice(4)), data: JSON.parse(dataLine.slice(6)) }
    })
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('GET /changes (server-sent events)', () => {
  it('streams changes as id + data frames, and unsubscribes when the client goes away', async () => {
    const s = await start()
    const controller = new AbortController()
    const res = await fetch(`${s.url}/changes`, { signal: controller.signal })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    assert.equal(res.headers.get('cache-control'), 'no-cache, no-transform')
    const sse = new SseReader(res)
    await sse.until((t) => t.startsWith('retry: 2000\n\n'))
    await waitFor(() => s.api.subscribers.size === 1)
    assert.deepEqual(s.api.callsTo('subscribe')[0].args, [0])

    const events = makeEvents(2)
    s.api.emit(1, events[0], { kind: 'http', id: '127.0.0.1' })
    s.api.emit(2, events[1], { kind: 'peer', id: 'p' })
    await sse.until((t) => dataFrames(t).length === 2)
    assert.deepEqual(dataFrames(sse.text), [
      { id: 1, data: { seq: 1, origin: { kind: 'http', id: '127.0.0.1' }, event: eventToJson(events[0]) } },
      { id: 2, data: { seq: 2, origin: { kind: 'peer', id: 'p' }, event: eventToJson(events[1]) } },
    ])

    controller.abort()
    await waitFor(() => s.api.unsubscribeCalls === 1)
    assert.equal(s.api.subscribers.size, 0)
  })

  it('starts after ?after=<seq>; Last-Event-ID wins over it', async () => {
    const s = await start()
    const a = new AbortController()
    await fetch(`${s.url}/changes?after=5`, { signal: a.signal })
    await waitFor(() => s.api.subscribeCalls === 1)
    assert.deepEqual(s.api.callsTo('subscribe')[0].args, [5])
    const b = new AbortController()
    await fetch(`${s.url}/changes?after=5`, { signal: b.signal, headers: { 'last-event-id': '42' } })
    await waitFor(() => s.api.subscribeCalls === 2)
    assert.deepEqual(s.api.callsTo('subscribe')[1].args, [42])
    a.abort()
    b.abort()
    await waitFor(() => s.api.unsubscribeCalls === 2)
  })

  it('refuses a malformed after or Last-Event-ID with 400 before streaming', async () => {
    const s = await start()
    for (const [path, headers, re] of [
      ['/changes?after=x', {}, /^after must be an integer/],
      ['/changes?after=-1', {}, /^after must be an integer/],
      ['/changes', { 'last-event-id': 'abc' }, /^Last-Event-ID must be an integer/],
    ] as const) {
      const res = await fetch(`${s.url}${path}`, { headers })
      assert.equal(res.status, 400)
      const body = (await res.json()) as { error: string; message: string }
      assert.equal(body.error, 'invalid_request')
      assert.match(body.message, re)
    }
    assert.equal(s.api.subscribeCalls, 0)
  })

  it('delivers changes the subscription replays synchronously', async () => {
    const s = await start()
    const events = makeEvents(3)
    s.api.onSubscribe = (after, deliver) => {
      for (let i = after; i < 3; i++)
        deliver({
          seq: i + 1,
          event: { signed: events[i].signed, signature: events[i].signature },
          origin: { kind: 'replay', id: 'log' },
        })
    }
    const controller = new AbortController()
    const sse = new SseReader(await fetch(`${s.url}/changes?after=1`, { signal: controller.signal }))
    await sse.until((t) => dataFrames(t).length === 2)
    assert.deepEqual(
      dataFrames(sse.text).map((f) => f.id),
      [2, 3],
    )
    controller.abort()
    await waitFor(() => s.api.unsubscribeCalls === 1)
  })

  it('sends a heartbeat comment when idle', async () => {
    const s = await start({ changes: { heartbeatMs: 20 } })
    const controller = new AbortController()
    const sse = new SseReader(await fetch(`${s.url}/changes`, { signal: controller.signal }))
    await sse.until((t) => t.includes(': heartbeat\n\n'))
    controller.abort()
    await waitFor(() => s.api.unsubscribeCalls === 1)
  })

  it('ends a too-slow client with event: overflow, and unsubscribes', async () => {
    const s = await start({ changes: { queueEventsMax: 5 } })
    const u = new URL(`${s.url}/changes`)
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, agent: false })
    req.end()
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      req.on('response', resolve)
      req.on('error', reject)
    })
    res.pause() // the client stops reading
    await waitFor(() => s.api.subscribers.size === 1)
    // Emit until the server gives up on this client (the socket fills, then the queue).
    const event = makeEvents(1)[0]
    let seq = 0
    while (s.api.unsubscribeCalls === 0 && seq < 1_000_000) s.api.emit(++seq, event)
    assert.equal(s.api.unsubscribeCalls, 1, 'the slow client was dropped')
    assert.equal(s.api.subscribers.size, 0)
    // Now read what the client got: some changes, in order, then the overflow frame, then the end.
    res.resume()
    res.setEncoding('utf8')
    let text = ''
    for await (const chunk of res) text += chunk
    const frames = dataFrames(text)
    assert.ok(frames.length > 0 && frames.length < seq)
    assert.deepEqual(
      frames.map((f) => f.id),
      frames.map((_, i) => i + 1),
    )
    const last = text.trimEnd().split('\n\n').at(-1)!
    const [eventLine, dataLine] = last.split('\n')
    assert.equal(eventLine, 'event: overflow')
    assert.equal((JSON.parse(dataLine.slice(6)) as { error: string }).error, 'overflow')
  })

  it('ends the stream with event: error when the subscription fails', async () => {
    const s = await start()
    s.api.failures.set('subscribe', { error: new InvalidRequestError('after is beyond the log') })
    const sse = new SseReader(await fetch(`${s.url}/changes?after=99`))
    const text = await sse.toEnd()
    assert.match(
      text,
      /event: error\ndata: \{"error":"invalid_request","message":"after is beyond the log"\}\n\n$/,
    )
  })

  it('close() ends open streams with event: close and returns promptly', async () => {
    const s = await start()
    const sse = new SseReader(await fetch(`${s.url}/changes`))
    await waitFor(() => s.api.subscribers.size === 1)
    await s.http.close()
    const text = await sse.toEnd()
    assert.match(text, /event: close\ndata: \{"error":"stopped",/)
    assert.equal(s.api.unsubscribeCalls, 1)
  })
})
