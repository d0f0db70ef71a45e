/**
 * Verifying a fetched range of an author's log with one signature: the receiver holds the log's
 * peaks at some length (what it held contiguously, or what it verified earlier in the session),
 * appends the leaves of the positions up to a signed head's length (the fetched events' digests,
 * and the digests of positions it already held), and compares the root with the head's; then it
 * checks the head's one Ed25519 signature. Every event of the range is then the author's, with
 * no per-event signature check (docs/PROTOCOL.md "Per-author logs and signed heads").
 *
 * Pure: the held positions and the signature check come in as functions.
 */
import { fromHex, toHex } from '../util/bytes.ts'
import { headSignable, leafHashOfHex, type Peak, peaksAppend, rootHash } from './merkle-log.ts'
import type { LogHead } from './ports.ts'
import type { Digest, SignedEvent } from './types.ts'

/** Positions one verification spans at most (fetched plus held): bounds the held positions it
 *  reads and the hashing it does before the signature check. */
export const LOG_VERIFY_SPAN_MAX = 200_000

/** A log's length and peaks as a verifier holds them. */
export interface LogAccumulator {
  readonly length: number
  readonly peaks: readonly Peak[]
}

export type ChunkVerdict =
  | { readonly ok: true; readonly next: LogAccumulator }
  | {
      readonly ok: false
      /** `foreign`: an event of another log or outside (start, head]; `incomplete`: a position
       *  in the span is neither fetched nor held; `span`: the span is over LOG_VERIFY_SPAN_MAX;
       *  `stale`: the head is not past the accumulator; `root`: the events do not hash to the
       *  head's root; `signature`: the head's signature does not verify. */
      readonly why: 'foreign' | 'incomplete' | 'span' | 'stale' | 'root' | 'signature'
    }

export async function verifyLogChunk(
  acc: LogAccumulator,
  events: readonly SignedEvent[],
  head: LogHead,
  heldAt: (seqs: readonly number[]) => Promise<Array<Digest | undefined>>,
  verifySignature: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean,
): Promise<ChunkVerdict> {
  if (head.length <= acc.length) return { ok: false, why: 'stale' }
  if (head.length - acc.length > LOG_VERIFY_SPAN_MAX) return { ok: false, why: 'span' }
  const span = head.length - acc.length
  const leaves: Uint8Array[] = new Array(span)
  // The usual case: the events are exactly the positions (acc.length, head.length], in order.
  let inOrder = events.length === span
  for (let i = 0; i < events.length && inOrder; i++) {
    const e = events[i]
    if (e.seq !== acc.length + i || e.author !== head.author || e.log !== head.log) inOrder = false
  }
  if (inOrder) for (let i = 0; i < span; i++) leaves[i] = leafHashOfHex(events[i].digest)
  else {
    const at = new Map<number, Digest>()
    for (const e of events) {
      if (e.author !== head.author || e.log !== head.log || e.seq < acc.length || e.seq >= head.length)
        return { ok: false, why: 'foreign' }
      const prev = at.get(e.seq)
      if (prev !== undefined && prev !== e.digest) return { ok: false, why: 'foreign' }
      at.set(e.seq, e.digest)
    }
    const missing: number[] = []
    for (let s = acc.length; s < head.length; s++) if (!at.has(s)) missing.push(s)
    if (missing.length > 0) {
      const held = await heldAt(missing)
      for (const [i, d] of held.entries()) {
        if (d === undefined) return { ok: false, why: 'incomplete' }
        at.set(missing[i], d)
      }
    }
    for (let s = acc.length; s < head.length; s++) leaves[s - acc.length] = leafHashOfHex(at.get(s) as string)
  }
  const peaks = peaksAppend(acc.peaks, leaves)
  const root = rootHash(head.length, peaks)
  if (toHex(root) !== head.root) return { ok: false, why: 'root' }
  const author = fromHex(head.author)!
  const signable = headSignable(author, fromHex(head.log)!, head.length, root)
  if (!verifySignature(author, signable, fromHex(head.signature)!)) return { ok: false, why: 'signature' }
  return { ok: true, next: { length: head.length, peaks } }
}
