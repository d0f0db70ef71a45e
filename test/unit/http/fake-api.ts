/**
 * A SyncApi for HTTP tests: records every call, answers with canned results, pages through a
 * fixed list of real signed events, and throws whatever error a test queues for a method.
 */
import type {
  ChangeEvent,
  HistoryPage,
  HistoryRequest,
  PullPage,
  PullRequest,
  PushResult,
  ResolveRequest,
  ResolveResult,
  RollbackRequest,
  RollbackResult,
  StateView,
  StatusInfo,
  SyncApi,
} from '../../../src/core/api.ts'
import { eventToJson, signEvent } from '../../../src/core/event.ts'
import type { EquivocationRecord } from '../../../src/core/ports.ts'
import type { AuditRecord, ConflictRecord, StoredEvent } from '../../../src/core/records.ts'
import type {
  AuthorKey,
  ConflictId,
  Digest,
  EventType,
  Origin,
  SignedEvent,
} from '../../../src/core/types.ts'
import { signerFromSeed } from '../../../src/util/crypto.ts'
import { nextLogPosition } from '../../helpers/log-position.ts'

const signer = signerFromSeed(new Uint8Array(32).fill(7))

/** `n` real signed persona events, target `p<i>`, HLC wall time 1_700_000_000_000 + i. */
export function makeEvents(n: number): SignedEvent[] {
  return Array.from({ length: n }, (_, i) =>
    signEvent(
      {
        eventId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        type: 'persona_update',
        targetId: `p${i}`,
        payload: { op: 'set', fields: { n: i } },
        hlc: { wallMs: 1_700_000_000_000 + i, counter: 0 },
        parents: [],
        ...nextLogPosition(signer),
      },
      signer,
    ),
  )
}

export const stored = (e: SignedEvent): StoredEvent => ({ signed: e.signed, signature: e.signature })
export { eventToJson }

export interface Call {
  method: string
  args: unknown[]
}

export class FakeApi implements SyncApi {
  readonly calls: Call[] = []
  /** The event log pull pages through (cursor `s.<index>`). */
  events: SignedEvent[] = makeEvents(5)
  /** Errors to throw, by method; a pull error can wait for a given cursor. */
  readonly failures = new Map<string, { error: Error; cursor?: string }>()
  readonly subscribers = new Set<(c: ChangeEvent) => void>()
  subscribeCalls = 0
  unsubscribeCalls = 0
  /** Called by subscribe, to deliver changes synchronously as a replay would. */
  onSubscribe: ((afterSeq: number, deliver: (c: ChangeEvent) => void) => void) | undefined
  stateView: StateView | undefined
  conflictList: ConflictRecord[] = []

  #record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args })
    const failure = this.failures.get(method)
    if (failure === undefined) return
    if (
      method === 'pull' &&
      failure.cursor !== undefined &&
      (args[0] as PullRequest).cursor !== failure.cursor
    )
      return
    throw failure.error
  }

  callsTo(method: string): Call[] {
    return this.calls.filter((c) => c.method === method)
  }

  async push(events: readonly unknown[], origin: Origin): Promise<PushResult> {
    this.#record('push', events, origin)
    return {
      accepted: events.length,
      duplicates: 0,
      rejected: [],
      digests: events.map((_, i) => String(i).padStart(64, '0')),
    }
  }

  async pushSigned(events: readonly StoredEvent[], origin: Origin): Promise<PushResult> {
    this.#record('pushSigned', events, origin)
    return { accepted: events.length, duplicates: 0, rejected: [], digests: [] }
  }

  async pushVerified(events: readonly StoredEvent[], origin: Origin): Promise<PushResult> {
    return this.pushSigned(events, origin)
  }

  /** When true, pull never runs out: every page is full and has_more stays true. */
  endless = false

  async pull(req: PullRequest, origin: Origin): Promise<PullPage> {
    this.#record('pull', req, origin)
    if (this.endless) {
      const start = req.cursor === undefined ? 0 : Number(req.cursor.slice(2))
      const n = req.limit ?? 500
      return {
        events: Array.from({ length: n }, () => stored(this.events[0])),
        next_cursor: `s.${start + n}`,
        has_more: true,
      }
    }
    const start = req.cursor === undefined ? 0 : Number(req.cursor.slice(2))
    const end = Math.min(this.events.length, start + (req.limit ?? 500))
    return {
      events: this.events.slice(start, end).map(stored),
      next_cursor: `s.${end}`,
      has_more: end < this.events.length,
    }
  }

  async resolveConflict(req: ResolveRequest, origin: Origin): Promise<ResolveResult> {
    this.#record('resolveConflict', req, origin)
    return {
      conflict_id: req.conflictId,
      strategy: req.resolutionStrategy,
      event: eventToJson(this.events[0]),
    }
  }

  async rollback(req: RollbackRequest, origin: Origin): Promise<RollbackResult> {
    this.#record('rollback', req, origin)
    return { event: eventToJson(this.events[0]), cells: 1 }
  }

  async conflicts(status: ConflictRecord['status'] | 'all', limit: number): Promise<ConflictRecord[]> {
    this.#record('conflicts', status, limit)
    return this.conflictList
  }

  async equivocations(limit: number): Promise<EquivocationRecord[]> {
    this.#record('equivocations', limit)
    const e = this.events[1]
    return [
      {
        author: e.author as AuthorKey,
        kind: 'event_id',
        events: [stored(this.events[0]), stored(e)],
        atMs: 5,
      },
    ]
  }

  async state(type: EventType, target: string): Promise<StateView | undefined> {
    this.#record('state', type, target)
    return this.stateView
  }

  async history(type: EventType, target: string, req: HistoryRequest): Promise<HistoryPage> {
    this.#record('history', type, target, req)
    return { event_type: type, target_id: target, events: [], next_cursor: null, has_more: false }
  }

  async status(): Promise<StatusInfo> {
    this.#record('status')
    return {
      node_id: 'node-1',
      public_key: 'ab'.repeat(32),
      version: '0.1.0',
      started_at: '2026-01-01T00:00:00.000Z',
      events: this.events.length,
      events_by_type: {
        vector_update: 0,
        persona_update: this.events.length,
        document_update: 0,
        graph_update: 0,
      },
      targets: this.events.length,
      conflicts_open: 0,
      state_hash: '00'.repeat(32),
      last_seq: this.events.length,
      hlc: '1:0',
      members: 'open',
      data_types: ['persona_update'],
    }
  }

  async audit(afterSeq: number, limit: number): Promise<AuditRecord[]> {
    this.#record('audit', afterSeq, limit)
    return [
      {
        seq: afterSeq + 1,
        atMs: 1,
        op: 'push',
        origin: 'http:127.0.0.1',
        detail: {},
        prevHash: '',
        hash: 'h',
      },
    ]
  }

  subscribe(afterSeq: number, onChange: (change: ChangeEvent) => void): () => void {
    this.#record('subscribe', afterSeq)
    this.subscribeCalls++
    this.subscribers.add(onChange)
    this.onSubscribe?.(afterSeq, onChange)
    let done = false
    return () => {
      if (done) return
      done = true
      this.unsubscribeCalls++
      this.subscribers.delete(onChange)
    }
  }

  /** Delivers a change to every subscriber, as the node does after a commit. */
  emit(
    seq: number,
    event: SignedEvent = this.events[0],
    origin: Origin = { kind: 'peer', id: 'peer-1' },
  ): void {
    for (const s of [...this.subscribers]) s({ seq, event: stored(event), origin })
  }
}

export const CONFLICT: ConflictRecord = {
  id: 'c'.repeat(64) as ConflictId,
  type: 'persona_update',
  target: 'p1',
  cell: 'field:name',
  sides: [],
  winner: 'd'.repeat(64) as Digest,
  status: 'open',
  detectedAtMs: 1,
}

/** A recording HttpLog: nothing reaches the console. */
export function recordingLog(): {
  entries: Array<{ level: string; message: string; fields?: Record<string, unknown> }>
  warn: (m: string, f?: Record<string, unknown>) => void
  error: (m: string, f?: Record<string, unknown>) => void
} {
  const entries: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = []
  return {
    entries,
    warn: (message, fields) => entries.push({ level: 'warn', message, fields }),
    error: (message, fields) => entries.push({ level: 'error', message, fields }),
  }
}
