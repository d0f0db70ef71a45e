/**
 * The receiving half of the log phase, pure: takes a session's events as they arrive (either
 * side), holds each log's events until the signed head that covers them, verifies the range with
 * it (src/core/log-verify.ts), and returns store actions: events verified by a head (stored with
 * no per-event signature check) or events to verify one signature each (no head covers them, or
 * it does not verify). The caller runs the actions in order and reports each result (`stored`).
 */
import { verifyEd25519 } from '../util/crypto.ts'
import type { LogHead as WireHead } from '../wire/index.ts'
import type { PushResult } from './api.ts'
import { checkEvent, type VerifyContext } from './event.ts'
import { decodeSigned } from './event-codec.ts'
import { peaksFromRecord } from './log-book.ts'
import type { LogPort } from './log-frames.ts'
import { fromWireHead } from './log-frames.ts'
import { type LogAccumulator, verifyLogChunk } from './log-verify.ts'
import type { LogHead } from './ports.ts'
import type { StoredEvent } from './records.ts'
import type { AuthorKey, SignedEvent } from './types.ts'

/** Unverified events of one log a receiver holds while it waits for the head that covers them;
 *  past it they are verified one signature each (a checkpoint every 4,096 events keeps a
 *  well-behaved peer far below it). */
export const LOG_CHUNK_BUFFER_BYTES = 16 * 1024 * 1024
/** Events in one store action (the node's write queue groups 1,000 events a commit). */
export const LOG_STORE_BATCH = 1_000

/** A batch for the node to store: `verified` by the head (no per-event signature check; the
 *  head, on the last batch of a range, is kept so this node can serve the range the same way),
 *  or `signed`: verify each event's signature. */
export type LogStoreAction =
  | { readonly kind: 'verified'; readonly events: readonly SignedEvent[]; readonly head?: LogHead }
  | { readonly kind: 'signed'; readonly events: readonly StoredEvent[] }

export interface ReceiveTotals {
  /** Events new to this node (the others were duplicates or refused). */
  accepted: number
  duplicates: number
  refused: number
  /** Events stored after a head verified them (no per-event signature check). */
  byHead: number
  /** Heads that did not verify (a peer that serves them is counted, and cut off at a bound). */
  badHeads: number
  refusals: Record<string, number>
  /** Accepted events, for relaying a few on gossip. */
  relay: StoredEvent[]
}

interface Pending {
  events: SignedEvent[]
  stored: StoredEvent[]
  bytes: number
}

const keyOf = (author: string, log: string): string => `${author}/${log}`

export class LogIntake {
  readonly #source: LogPort
  readonly #relayMax: number
  readonly #verifySignature: (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean
  readonly #pending = new Map<string, Pending>()
  readonly #acc = new Map<string, LogAccumulator | null>()
  readonly #out: LogStoreAction[] = []
  readonly totals: ReceiveTotals = {
    accepted: 0,
    duplicates: 0,
    refused: 0,
    byHead: 0,
    badHeads: 0,
    refusals: {},
    relay: [],
  }

  constructor(
    source: LogPort,
    relayMax: number,
    verifySignature: (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => boolean = verifyEd25519,
  ) {
    this.#source = source
    this.#relayMax = relayMax
    this.#verifySignature = verifySignature
  }

  /** One frame's events and the head it carries (if any). */
  async take(events: readonly StoredEvent[], head: WireHead | undefined, ctx: VerifyContext): Promise<void> {
    for (const s of events) {
      let e: SignedEvent
      try {
        e = checkEvent(decodeSigned(s.signed), s.signed, s.signature, ctx)
      } catch {
        // Malformed, foreign or out of bounds: the node names the reason (one signature path).
        this.#store([], [s])
        continue
      }
      const k = keyOf(e.author, e.log)
      let p = this.#pending.get(k)
      if (p === undefined) {
        p = { events: [], stored: [], bytes: 0 }
        this.#pending.set(k, p)
      }
      p.events.push(e)
      p.stored.push(s)
      p.bytes += s.signed.byteLength + s.signature.byteLength
      if (p.bytes > LOG_CHUNK_BUFFER_BYTES) this.#flush(k, undefined)
    }
    if (head !== undefined) {
      const h = fromWireHead(head)
      await this.#verified(keyOf(h.author, h.log), h)
    }
  }

  /** Store actions produced since the last call, in order. */
  drain(): LogStoreAction[] {
    return this.#out.splice(0)
  }

  /** Everything still held goes to the node one signature each. */
  flushAll(): void {
    for (const k of [...this.#pending.keys()]) this.#flush(k, undefined)
  }

  /** The node's result of one action (counted into `totals`). */
  stored(action: LogStoreAction, r: PushResult): void {
    const t = this.totals
    if (action.kind === 'verified') t.byHead += action.events.length
    t.accepted += r.accepted
    t.duplicates += r.duplicates
    t.refused += r.rejected.length
    for (const x of r.rejected) t.refusals[x.error] = (t.refusals[x.error] ?? 0) + 1
    if (t.relay.length < this.#relayMax && r.digests.length > 0) {
      const ok = new Set(r.digests)
      for (const e of action.events as ReadonlyArray<StoredEvent>) {
        if (t.relay.length < this.#relayMax && e.digest !== undefined && ok.has(e.digest))
          t.relay.push({ signed: e.signed, signature: e.signature })
      }
    }
  }

  async #accumulator(k: string, author: AuthorKey, log: string): Promise<LogAccumulator | null> {
    const known = this.#acc.get(k)
    if (known !== undefined) return known
    const [rec] = await this.#source.getLogRecords([{ author, log }])
    const acc =
      rec === undefined ? { length: 0, peaks: [] } : { length: rec.contiguous, peaks: peaksFromRecord(rec) }
    this.#acc.set(k, acc)
    return acc
  }

  async #verified(k: string, head: LogHead): Promise<void> {
    const p = this.#pending.get(k)
    if (p === undefined || p.events.length === 0) return
    const acc = await this.#accumulator(k, head.author, head.log)
    if (acc === null) return this.#flush(k, undefined)
    const verdict = await verifyLogChunk(
      acc,
      p.events,
      head,
      (seqs) =>
        this.#source.getLogPositions(seqs.map((seq) => ({ author: head.author, log: head.log, seq }))),
      this.#verifySignature,
    )
    if (verdict.ok) {
      this.#acc.set(k, verdict.next)
      this.#flush(k, head)
      return
    }
    if (verdict.why === 'root' || verdict.why === 'signature') this.totals.badHeads++
    // Positions this side could not line up (a hole, a fork, a head it cannot check): from here
    // on the log's events are verified one by one.
    this.#acc.set(k, null)
    this.#flush(k, undefined)
  }

  /** Hands a log's held events to the node: verified by `head`, or one signature each. */
  #flush(k: string, head: LogHead | undefined): void {
    const p = this.#pending.get(k)
    if (p === undefined || p.events.length === 0) return
    this.#pending.delete(k)
    this.#store(head === undefined ? [] : p.events, head === undefined ? p.stored : [], head)
  }

  #store(verified: readonly SignedEvent[], unverified: readonly StoredEvent[], head?: LogHead): void {
    for (let i = 0; i < verified.length; i += LOG_STORE_BATCH) {
      const last = i + LOG_STORE_BATCH >= verified.length
      this.#out.push({
        kind: 'verified',
        events: verified.slice(i, i + LOG_STORE_BATCH),
        ...(last && head !== undefined ? { head } : {}),
      })
    }
    for (let i = 0; i < unverified.length; i += LOG_STORE_BATCH)
      this.#out.push({ kind: 'signed', events: unverified.slice(i, i + LOG_STORE_BATCH) })
  }
}
