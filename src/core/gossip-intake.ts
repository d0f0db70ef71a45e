/**
 * Gossip receive and announce as a sans-IO state machine: what a node does with one gossip
 * message, decided here and carried out by the libp2p adapter (src/net/gossip.ts), which only
 * decodes the bytes, runs the I/O each step asks for and reports back.
 *
 * A message of complete events: every event's type is the topic's -> the ones not seen yet (none:
 * ignore) -> each checked (schema, membership, clock drift; the signature inline, or for a
 * message of `poolVerifyMin` or more new events all signatures in one `verify` step) -> accept.
 * An announce (a large event by digest): seen? ignore -> `fetch` it from the peer that relayed
 * the announce (at most `fetchesMax` at once, else ignore) -> the fetched bytes hash to the
 * digest and weigh what the announce said (else reject) -> seen meanwhile? ignore -> the same
 * checks -> accept.
 *
 * Verdicts: `reject` (the sender's fault: gossipsub's peer score punishes it; `why` is the
 * refusal code), `ignore` (nothing new, or this node is busy: no penalty), `accept` (the events
 * go to the node; the adapter marks them seen once it took them).
 *
 * @example
 * ```ts
 * const r = intake.receive(topicType, payload)        // payload: the decoded message
 * for (let step = r.step(ctx); ; step = r.step(ctx)) {
 *   if (step.kind === 'fetch') r.fetched(await pullOne(peer, step.raw).catch(() => 'failed'))
 *   else if (step.kind === 'verify') r.verified(await pool.verify(step.items))
 *   else return step                                   // reject | ignore | accept
 * }
 * ```
 */
import { fromHex, toHex } from '../util/bytes.ts'
import type { VerifyItem } from '../util/crypto.ts'
import { isEventRejectedError } from './errors.ts'
import { badSignature, checkEvent, eventFromWire, type VerifyContext } from './event.ts'
import { decodeSigned, digestOf, eventTypeOfSigned } from './event-codec.ts'
import type { StoredEvent } from './records.ts'
import type { Digest, EventType, SignedEvent } from './types.ts'

/** A decoded gossip message. */
export type GossipPayload =
  | { readonly kind: 'events'; readonly events: readonly StoredEvent[] }
  | { readonly kind: 'announce'; readonly digest: Uint8Array; readonly size: number }

export type GossipStep =
  /** Fetch the announced event from the peer that relayed the announce; answer with `fetched`. */
  | { readonly kind: 'fetch'; readonly digest: Digest; readonly raw: Uint8Array; readonly size: number }
  /** Verify these signatures (all at once, e.g. on a worker pool); answer with `verified`. */
  | { readonly kind: 'verify'; readonly items: readonly VerifyItem[] }
  /** The sender broke the rules: `why` is the refusal code. */
  | { readonly kind: 'reject'; readonly why: string }
  /** Nothing to do: seen, busy, or a fault of this node's (`why` names it for the counters;
   *  `error` is the fault's message when the node's own check threw unexpectedly). */
  | { readonly kind: 'ignore'; readonly why?: string; readonly error?: string }
  /** New, valid events: hand them to the node; `digests` in the same order. */
  | {
      readonly kind: 'accept'
      readonly events: readonly SignedEvent[]
      readonly digests: readonly Digest[]
      /** The announced event (the adapter keeps it for peers that fetch it from this node). */
      readonly announced?: StoredEvent
    }

export interface GossipIntakeInit {
  /** Whether the node holds or has queued this digest. */
  readonly seen: (digest: Digest) => boolean
  /** Messages with at least this many new events have their signatures verified in one step. */
  readonly poolVerifyMin: number
  /** Announce fetches outstanding at once; beyond it an announce is ignored (busy). */
  readonly fetchesMax: number
}

export class GossipIntake {
  readonly #init: GossipIntakeInit
  #fetches = 0

  constructor(init: GossipIntakeInit) {
    this.#init = init
  }

  /** Announce fetches outstanding now. */
  get fetches(): number {
    return this.#fetches
  }

  /** A message on the topic of `topicType` (undefined: not one of the event topics). */
  receive(topicType: EventType | undefined, payload: GossipPayload): GossipReception {
    return new GossipReception(this, this.#init, topicType, payload)
  }

  /** @internal the reception's fetch slot. */
  takeFetch(): boolean {
    if (this.#fetches >= this.#init.fetchesMax) return false
    this.#fetches++
    return true
  }

  /** @internal */
  releaseFetch(): void {
    this.#fetches--
  }
}

type State =
  | { readonly at: 'start' }
  | { readonly at: 'fetching'; readonly digest: Digest; readonly size: number }
  | { readonly at: 'fetched'; readonly event: StoredEvent; readonly digest: Digest }
  | {
      readonly at: 'verifying'
      readonly checked: SignedEvent[]
      readonly digests: Digest[]
      readonly announced?: StoredEvent
    }
  | {
      readonly at: 'verified'
      readonly checked: SignedEvent[]
      readonly digests: Digest[]
      readonly valid: readonly boolean[]
      readonly announced?: StoredEvent
    }
  | { readonly at: 'done'; readonly step: GossipStep }

/** One message on its way through the intake. */
export class GossipReception {
  readonly #intake: GossipIntake
  readonly #init: GossipIntakeInit
  readonly #type: EventType | undefined
  readonly #payload: GossipPayload
  #state: State = { at: 'start' }

  constructor(
    intake: GossipIntake,
    init: GossipIntakeInit,
    type: EventType | undefined,
    payload: GossipPayload,
  ) {
    this.#intake = intake
    this.#init = init
    this.#type = type
    this.#payload = payload
  }

  /** What to do next; `ctx` is the verification context of now (time, members). A final step
   *  (reject, ignore, accept) is returned again on later calls. */
  step(ctx: VerifyContext): GossipStep {
    const s = this.#state
    switch (s.at) {
      case 'done':
        return s.step
      case 'start':
        return this.#start(ctx)
      case 'fetching':
        throw new Error('GossipReception: waiting for fetched()')
      case 'fetched':
        if (this.#init.seen(s.digest)) return this.#end({ kind: 'ignore' })
        return this.#check([{ event: s.event, digest: s.digest }], ctx, s.event)
      case 'verifying':
        throw new Error('GossipReception: waiting for verified()')
      case 'verified': {
        const bad = s.valid.indexOf(false)
        if (bad >= 0) return this.#end({ kind: 'reject', why: badSignature(s.checked[bad]).code })
        // The verification took time: another path may have brought them all meanwhile.
        if (s.digests.every((d) => this.#init.seen(d))) return this.#end({ kind: 'ignore' })
        return this.#accept(s.checked, s.digests, s.announced)
      }
    }
  }

  /** The announce fetch's answer: the events the peer sent, or 'failed' (error, timeout). */
  fetched(result: readonly StoredEvent[] | 'failed'): void {
    const s = this.#state
    if (s.at !== 'fetching') throw new Error('GossipReception: fetched() without a fetch')
    this.#intake.releaseFetch()
    if (result === 'failed') return void this.#end({ kind: 'ignore', why: 'announce_fetch_failed' })
    if (result.length === 0) return void this.#end({ kind: 'ignore', why: 'announce_fetch_missing' })
    const match = result.find((e) => digestOf(e.signed) === s.digest)
    if (match === undefined) return void this.#end({ kind: 'reject', why: 'fetch_mismatch' })
    if (match.signed.byteLength + match.signature.byteLength !== s.size)
      return void this.#end({ kind: 'reject', why: 'announce_size' })
    this.#state = {
      at: 'fetched',
      event: { signed: match.signed, signature: match.signature },
      digest: s.digest,
    }
  }

  /** The `verify` step's answer, one flag per item. */
  verified(valid: readonly boolean[]): void {
    const s = this.#state
    if (s.at !== 'verifying') throw new Error('GossipReception: verified() without a verify step')
    if (valid.length !== s.checked.length) throw new Error('GossipReception: one flag per item')
    this.#state = { ...s, at: 'verified', valid }
  }

  #end(step: GossipStep): GossipStep {
    this.#state = { at: 'done', step }
    return step
  }

  #start(ctx: VerifyContext): GossipStep {
    const type = this.#type
    if (type === undefined) return this.#end({ kind: 'reject', why: 'unknown_topic' })
    const p = this.#payload
    if (p.kind === 'announce') {
      const digest = toHex(p.digest) as Digest
      if (this.#init.seen(digest)) return this.#end({ kind: 'ignore' })
      if (!this.#intake.takeFetch()) return this.#end({ kind: 'ignore', why: 'announce_busy' })
      this.#state = { at: 'fetching', digest, size: p.size }
      return { kind: 'fetch', digest, raw: p.digest, size: p.size }
    }
    for (const e of p.events)
      if (eventTypeOfSigned(e.signed) !== type) return this.#end({ kind: 'reject', why: 'wrong_topic' })
    const inMessage = new Set<Digest>()
    const fresh: Array<{ event: StoredEvent; digest: Digest }> = []
    for (const e of p.events) {
      const digest = digestOf(e.signed)
      if (inMessage.has(digest) || this.#init.seen(digest)) continue
      inMessage.add(digest)
      fresh.push({ event: { signed: e.signed, signature: e.signature }, digest })
    }
    if (fresh.length === 0) return this.#end({ kind: 'ignore' })
    return this.#check(fresh, ctx, undefined)
  }

  /** Every check of each event; the signatures inline, or in one verify step for a large message. */
  #check(
    fresh: ReadonlyArray<{ event: StoredEvent; digest: Digest }>,
    ctx: VerifyContext,
    announced: StoredEvent | undefined,
  ): GossipStep {
    const pool = fresh.length >= this.#init.poolVerifyMin
    const checked: SignedEvent[] = []
    for (const { event } of fresh) {
      let e: SignedEvent
      try {
        e = pool
          ? checkEvent(decodeSigned(event.signed), event.signed, event.signature, ctx)
          : eventFromWire(event.signed, event.signature, ctx)
      } catch (err) {
        if (isEventRejectedError(err)) return this.#end({ kind: 'reject', why: err.code })
        return this.#end({
          kind: 'ignore',
          why: 'validation_failed',
          error: (err as Error)?.message ?? String(err),
        })
      }
      if (e.type !== this.#type) return this.#end({ kind: 'reject', why: 'wrong_topic' })
      checked.push(e)
    }
    const digests = fresh.map((f) => f.digest)
    if (!pool) return this.#accept(checked, digests, announced)
    this.#state = { at: 'verifying', checked, digests, ...(announced === undefined ? {} : { announced }) }
    return {
      kind: 'verify',
      items: checked.map((e) => ({ key: fromHex(e.author)!, message: e.signed, signature: e.signature })),
    }
  }

  #accept(events: SignedEvent[], digests: Digest[], announced: StoredEvent | undefined): GossipStep {
    return this.#end({ kind: 'accept', events, digests, ...(announced === undefined ? {} : { announced }) })
  }
}
