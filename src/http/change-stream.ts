/**
 * One client's server-sent-event stream of the change feed (`GET /changes`).
 *
 * The feed pushes changes as they happen and never waits for a client, so this class holds a
 * bounded queue: it writes while the socket accepts data, waits for `drain` when it does not,
 * and when a client falls more than SSE_QUEUE_EVENTS_MAX entries (or SSE_QUEUE_BYTES_MAX
 * bytes) behind it ends the stream with `event: overflow`. The client reconnects with
 * `Last-Event-ID` (EventSource does so by itself) and replays from where it was.
 *
 * Frames:
 *   retry: 2000                                   once, at the start
 *   id: <seq>\ndata: {"seq","origin","event"}     one per change
 *   : heartbeat                                   when idle, every SSE_HEARTBEAT_MS
 *   event: overflow | close | error\ndata: {"error","message"}   last frame before the end
 */
import type { ServerResponse } from 'node:http'
import type { ChangeEvent } from '../core/api.ts'
import { storedToJson } from './json.ts'

export interface ChangeStreamLimits {
  readonly queueEventsMax: number
  readonly queueBytesMax: number
  readonly heartbeatMs: number
  readonly retryMs: number
}

export class ChangeStream {
  readonly #res: ServerResponse
  readonly #limits: ChangeStreamLimits
  readonly #onEnd: () => void
  readonly #queue: string[] = []
  #queuedBytes = 0
  #started = false
  #waitingForDrain = false
  #ended = false
  #heartbeat: ReturnType<typeof setInterval> | undefined

  /** `onEnd` runs once, when the stream ends for any reason (client gone, overflow, close). */
  constructor(res: ServerResponse, limits: ChangeStreamLimits, onEnd: () => void) {
    this.#res = res
    this.#limits = limits
    this.#onEnd = onEnd
    res.on('close', () => this.#finish())
    res.on('error', () => this.#finish())
  }

  get ended(): boolean {
    return this.#ended
  }

  /** Sends the headers and anything queued before; starts the heartbeat. */
  start(): void {
    if (this.#ended || this.#started) return
    this.#started = true
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx buffers responses unless told not to; a buffered feed is not a feed.
      'x-accel-buffering': 'no',
    })
    this.#res.write(`retry: ${this.#limits.retryMs}\n\n`)
    this.#heartbeat = setInterval(() => {
      if (!this.#waitingForDrain && this.#queue.length === 0) this.#res.write(': heartbeat\n\n')
    }, this.#limits.heartbeatMs)
    this.#pump()
  }

  /** Queues one change (called by the feed; never blocks). */
  push(change: ChangeEvent): void {
    if (this.#ended) return
    let data: string
    try {
      data = JSON.stringify({ seq: change.seq, origin: change.origin, event: storedToJson(change.event) })
    } catch {
      this.end('error', {
        error: 'internal',
        message: `change ${change.seq} could not be encoded; see the node's log`,
      })
      return
    }
    const frame = `id: ${change.seq}\ndata: ${data}\n\n`
    const bytes = Buffer.byteLength(frame)
    if (
      this.#queue.length >= this.#limits.queueEventsMax ||
      this.#queuedBytes + bytes > this.#limits.queueBytesMax
    ) {
      this.end('overflow', {
        error: 'overflow',
        message: 'this client fell too far behind the change feed; reconnect with Last-Event-ID to continue',
      })
      return
    }
    this.#queue.push(frame)
    this.#queuedBytes += bytes
    this.#pump()
  }

  /** Ends the stream with a final named event (queued changes not yet written are dropped:
   *  the client has not seen their ids, so it replays them when it reconnects). */
  end(event: 'overflow' | 'close' | 'error', data: { error: string; message: string }): void {
    if (this.#ended) return
    this.#queue.length = 0
    this.#queuedBytes = 0
    if (this.#started && !this.#res.destroyed) {
      this.#res.end(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    } else if (!this.#res.destroyed) {
      this.#res.end()
    }
    this.#finish()
  }

  #pump(): void {
    if (!this.#started || this.#waitingForDrain) return
    while (this.#queue.length > 0 && !this.#ended) {
      const frame = this.#queue.shift()!
      this.#queuedBytes -= Buffer.byteLength(frame)
      if (!this.#res.write(frame)) {
        this.#waitingForDrain = true
        this.#res.once('drain', () => {
          this.#waitingForDrain = false
          this.#pump()
        })
        return
      }
    }
  }

  #finish(): void {
    if (this.#ended) return
    this.#ended = true
    clearInterval(this.#heartbeat)
    this.#queue.length = 0
    this.#onEnd()
  }
}
