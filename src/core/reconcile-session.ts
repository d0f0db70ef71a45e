/**
 * Range-based set reconciliation of one event type between two nodes (the model of
 * negentropy's protocol): sans-IO, the shape `initiate()` / `handle(message)`. The libp2p adapter
 * (src/net/protocols/reconcile.ts), the unit tests and the simulator drive the same object.
 *
 * Both sides hold a RangeIndex of (HLC, digest) keys. A message is a list of consecutive ranges
 * that together cover the whole key space: the first starts at the empty bound, each ends
 * (exclusive) at its `upper` bound, the last has the empty upper bound (= the end). Each range
 * carries one mode:
 *
 *   skip         the sender has nothing more to say about the range (it matched, or is done)
 *   fingerprint  the sender's fingerprint of its items in the range: equal → skip; otherwise the
 *                receiver splits the range (BUCKETS sub-ranges with fingerprints) or, when it
 *                holds at most IDLIST_MAX items there, sends their ids
 *   idList       every id the sender holds in the range. The initiator answers it with skip and
 *                knows the difference both ways; the responder answers with `diff`
 *   diff         (responder only) `ids`: what the initiator lacks; `wanted`: ids the initiator
 *                sent that the responder lacks
 *
 * The initiator ends when its answer would be all skips: it then knows `need` (ids the peer
 * holds that it lacks) and `have` (ids it holds that the peer lacks), fetches the first and
 * sends the second. Nothing is marked as done: a later session finds whatever is still missing.
 *
 * The first message splits the key space exponentially from the newest item (ranges of 1, 1, 2,
 * 4, ... items), because nodes mostly differ by what was written last: a tail difference is
 * found in one round trip.
 *
 * Messages are bounded: when an answer would outgrow `messageBytesMax`, the rest of the key
 * space goes out as one fingerprint range and is split again in the next round (negentropy's
 * frame size limit), so any difference is found in bounded frames, in more rounds.
 */
import { ReconcileProtocolError } from './errors.ts'
import { DIGEST_BYTES, FINGERPRINT_BYTES, KEY_BYTES, type RangeIndex } from './range-index.ts'

export const RangeMode = { skip: 0, fingerprint: 1, idList: 2, diff: 3 } as const
export type RangeModeCode = (typeof RangeMode)[keyof typeof RangeMode]

export interface ReconRange {
  /** Exclusive upper bound: a key or a prefix of one; empty = the end of the key space. */
  readonly upper: Uint8Array
  readonly mode: RangeModeCode
  /** mode fingerprint: 16 bytes. */
  readonly fingerprint?: Uint8Array
  /** mode idList: the sender's ids in the range; mode diff: the ids the initiator lacks. */
  readonly ids?: readonly Uint8Array[]
  /** mode diff: ids the initiator sent in its idList that the responder lacks. */
  readonly wanted?: readonly Uint8Array[]
}

/** Sub-ranges a differing range is split into. */
export const BUCKETS = 16
/** A range with at most this many items is answered with its ids instead of being split:
 *  32 ids are 1 KB, about what two more rounds of fingerprints would cost. */
export const IDLIST_MAX = 32
/** Ranges in one message, at most (a peer's message with more is refused). */
export const RANGES_MAX = 8_192
/** Ids in one message, at most (idList, diff ids and wanted together). */
export const IDS_MAX = 16_384
/** Rounds of one session, at most: every round resolves at least one range, and a session of
 *  a million events differing everywhere needs far fewer with 16-way splits; a peer that never
 *  converges is cut off. */
export const ROUNDS_MAX = 1_000
/** Ids the initiator may learn it needs in one session: a session that reaches this many ends
 *  early (`truncated`), the adapter fetches them, and the next session finds the rest. It
 *  bounds the session's memory (~150 B an id) whatever the peer holds. */
export const NEED_MAX = 50_000
/** Default bound of an encoded message (bytes); the adapter passes its frame limit. */
export const MESSAGE_BYTES_DEFAULT = 256 * 1024

export interface ReconcileInit {
  readonly messageBytesMax?: number
}

/** Encoded size estimate of a range (protobuf): bound, mode, fingerprint, ids. */
function rangeBytes(r: ReconRange): number {
  let n = 2 + r.upper.length + 2 + 4
  if (r.fingerprint !== undefined) n += 2 + FINGERPRINT_BYTES
  n += ((r.ids?.length ?? 0) + (r.wanted?.length ?? 0)) * (DIGEST_BYTES + 2)
  return n
}

/** A map key of an id: its bytes as a latin1 string (a view, no copy; half a hex string's length). */
const idKey = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1')

/** What is left of a message for one answer: bytes, ranges and ids. */
interface Room {
  readonly bytes: number
  readonly ranges: number
  readonly ids: number
}

export class ReconcileSession {
  readonly #index: RangeIndex
  readonly #initiator: boolean
  #budget: number
  readonly #need = new Map<string, Uint8Array>()
  readonly #have = new Map<string, Uint8Array>()
  #rounds = 0
  #done = false
  #truncated = false

  constructor(index: RangeIndex, role: 'initiator' | 'responder', init: ReconcileInit = {}) {
    this.#index = index
    this.#initiator = role === 'initiator'
    this.#budget = Math.max(4096, init.messageBytesMax ?? MESSAGE_BYTES_DEFAULT)
  }

  /** Raises or lowers the bound of this side's messages (once the peer said what it reads). */
  limitMessages(bytes: number): void {
    this.#budget = Math.max(4096, bytes)
  }

  /** Ids (digests) the peer holds and this side lacks. */
  get need(): Uint8Array[] {
    return [...this.#need.values()]
  }

  /** Ids this side holds and the peer lacks (the initiator sends them). */
  get have(): Uint8Array[] {
    return [...this.#have.values()]
  }

  get rounds(): number {
    return this.#rounds
  }

  /** The initiator has nothing more to ask. */
  get done(): boolean {
    return this.#done
  }

  /** The session ended early because `need` or `have` reached NEED_MAX: run another one. */
  get truncated(): boolean {
    return this.#truncated
  }

  /** The initiator's first message. */
  initiate(): ReconRange[] {
    if (!this.#initiator) throw new ReconcileProtocolError('only the initiator initiates')
    const n = this.#index.size
    if (n <= IDLIST_MAX) {
      return [{ upper: new Uint8Array(0), mode: RangeMode.idList, ids: this.#index.digests(0, n) }]
    }
    // Bounds at n-1, n-2, n-4, ...: ranges of 1, 1, 2, 4, ... items from the newest.
    const cuts: number[] = []
    for (let step = 1; n - step > 0; step *= 2) cuts.push(n - step)
    cuts.reverse()
    const out: ReconRange[] = []
    let lo = 0
    for (const cut of cuts) {
      out.push({
        upper: this.#index.boundAt(cut),
        mode: RangeMode.fingerprint,
        fingerprint: this.#index.fingerprint(lo, cut),
      })
      lo = cut
    }
    out.push({
      upper: new Uint8Array(0),
      mode: RangeMode.fingerprint,
      fingerprint: this.#index.fingerprint(lo, n),
    })
    return out
  }

  /**
   * Processes the peer's message and returns the answer. For the initiator, `null` means the
   * session is complete (`need` and `have` are final). Throws ReconcileProtocolError on a
   * malformed message (the adapter resets the stream and counts it against the peer).
   */
  handle(message: readonly ReconRange[]): ReconRange[] | null {
    if (this.#done) throw new ReconcileProtocolError('the session is already complete')
    if (++this.#rounds > ROUNDS_MAX)
      throw new ReconcileProtocolError(`more than ${ROUNDS_MAX} rounds: the peer does not converge`)
    checkMessage(message)
    const idx = this.#index
    const out: ReconRange[] = []
    let bytes = 0
    let ids = 0
    let lo = 0
    for (let i = 0; i < message.length; i++) {
      const r = message[i]
      const last = i === message.length - 1
      const hi = last ? idx.size : idx.lowerBound(r.upper)
      // Out of room in bytes, ranges or ids (what the peer accepts: RANGES_MAX, IDS_MAX), with
      // space kept for one more answer (a split, or a diff).
      if (bytes > this.#budget || out.length + BUCKETS + 2 > RANGES_MAX || ids + 2 * IDLIST_MAX > IDS_MAX) {
        // Out of room: the rest of the key space as one fingerprint, split again next round.
        out.push({
          upper: new Uint8Array(0),
          mode: RangeMode.fingerprint,
          fingerprint: idx.fingerprint(lo, idx.size),
        })
        return this.#finish(out)
      }
      const answer = this.#answer(r, lo, hi, {
        bytes: this.#budget - bytes,
        ranges: RANGES_MAX - out.length,
        ids: IDS_MAX - ids,
      })
      for (const a of answer) {
        bytes += rangeBytes(a)
        ids += (a.ids?.length ?? 0) + (a.wanted?.length ?? 0)
        out.push(a)
      }
      lo = hi
    }
    return this.#finish(out)
  }

  #answer(r: ReconRange, lo: number, hi: number, room: Room): ReconRange[] {
    const idx = this.#index
    const skip: ReconRange = { upper: r.upper, mode: RangeMode.skip }
    switch (r.mode) {
      case RangeMode.skip:
        return [skip]
      case RangeMode.fingerprint: {
        const mine = idx.fingerprint(lo, hi)
        if (equalBytes(mine, r.fingerprint as Uint8Array)) return [skip]
        return this.#split(lo, hi, r.upper)
      }
      case RangeMode.idList: {
        // A responder that holds more items here than one id list carries answers with one diff
        // per run of IDLIST_MAX of its items: the initiator must learn every id it lacks anyway,
        // and splitting would only cost more rounds. What the initiator sent and the responder
        // lacks goes with the first run.
        if (!this.#initiator && hi - lo > IDLIST_MAX) return this.#diffRuns(r, lo, hi, room)
        const theirs = new Map<string, Uint8Array>()
        for (const id of r.ids ?? []) theirs.set(idKey(id), id)
        const mine = idx.digests(lo, hi)
        const mineSet = new Set<string>()
        const lacking: Uint8Array[] = []
        for (const id of mine) {
          const h = idKey(id)
          mineSet.add(h)
          if (!theirs.has(h)) lacking.push(id)
        }
        const wanted: Uint8Array[] = []
        for (const [h, id] of theirs) if (!mineSet.has(h)) wanted.push(id)
        if (this.#initiator) {
          for (const id of wanted) this.#need.set(idKey(id), id)
          for (const id of lacking) this.#have.set(idKey(id), id)
          return [skip]
        }
        return [{ upper: r.upper, mode: RangeMode.diff, ids: lacking, wanted }]
      }
      case RangeMode.diff: {
        if (!this.#initiator)
          throw new ReconcileProtocolError('a diff range goes from the responder to the initiator only')
        for (const id of r.ids ?? []) this.#need.set(idKey(id), id)
        for (const id of r.wanted ?? []) this.#have.set(idKey(id), id)
        return [skip]
      }
      default:
        throw new ReconcileProtocolError(`unknown range mode ${String(r.mode)}`)
    }
  }

  /** Diff runs while they fit in `room` bytes; the rest of the range goes as one fingerprint
   *  (the initiator answers it with its ids again next round). */
  #diffRuns(r: ReconRange, lo: number, hi: number, room: Room): ReconRange[] {
    const idx = this.#index
    const theirs = new Set((r.ids ?? []).map(idKey))
    const mine = new Set<string>()
    const out: ReconRange[] = []
    let used = 0
    let idsUsed = (r.ids ?? []).length
    for (let from = lo; from < hi; from += IDLIST_MAX) {
      if (
        out.length > 0 &&
        (used > room.bytes || out.length + 2 > room.ranges || idsUsed + IDLIST_MAX > room.ids)
      ) {
        out.push({ upper: r.upper, mode: RangeMode.fingerprint, fingerprint: idx.fingerprint(from, hi) })
        // Their ids beyond this point are unknown to the runs above: they come back next round.
        for (let i = from; i < hi; i++) mine.add(idKey(idx.keyAt(i).subarray(8)))
        break
      }
      const to = Math.min(hi, from + IDLIST_MAX)
      const ids = idx.digests(from, to)
      const lacking: Uint8Array[] = []
      for (const id of ids) {
        const h = idKey(id)
        mine.add(h)
        if (!theirs.has(h)) lacking.push(id)
      }
      const run: ReconRange = {
        upper: to === hi ? r.upper : idx.boundAt(to),
        mode: RangeMode.diff,
        ids: lacking,
        wanted: [],
      }
      used += rangeBytes(run)
      idsUsed += lacking.length
      out.push(run)
    }
    const wanted = (r.ids ?? []).filter((id) => !mine.has(idKey(id)))
    out[0] = { ...out[0], wanted }
    return out
  }

  /** Answers a differing range: its ids when few, else BUCKETS fingerprinted sub-ranges. */
  #split(lo: number, hi: number, upper: Uint8Array): ReconRange[] {
    const idx = this.#index
    const n = hi - lo
    if (n <= IDLIST_MAX) return [{ upper, mode: RangeMode.idList, ids: idx.digests(lo, hi) }]
    const out: ReconRange[] = []
    let from = lo
    for (let b = 1; b <= BUCKETS; b++) {
      const to = b === BUCKETS ? hi : lo + Math.floor((n * b) / BUCKETS)
      const bound = b === BUCKETS ? upper : idx.boundAt(to)
      out.push({ upper: bound, mode: RangeMode.fingerprint, fingerprint: idx.fingerprint(from, to) })
      from = to
    }
    return out
  }

  /** Merges runs of skips; for the initiator, an all-skip answer ends the session. */
  #finish(out: ReconRange[]): ReconRange[] | null {
    const merged: ReconRange[] = []
    for (const r of out) {
      const prev = merged[merged.length - 1]
      if (prev !== undefined && prev.mode === RangeMode.skip && r.mode === RangeMode.skip)
        merged[merged.length - 1] = r
      else merged.push(r)
    }
    if (this.#initiator && merged.every((r) => r.mode === RangeMode.skip)) {
      this.#done = true
      return null
    }
    if (this.#initiator && (this.#need.size >= NEED_MAX || this.#have.size >= NEED_MAX)) {
      this.#done = true
      this.#truncated = true
      return null
    }
    return merged
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Structural checks of a peer's message: bounds ascending, the last one open, sizes right. */
export function checkMessage(message: readonly ReconRange[]): void {
  if (message.length === 0) throw new ReconcileProtocolError('a reconciliation message has no ranges')
  if (message.length > RANGES_MAX)
    throw new ReconcileProtocolError(`${message.length} ranges in one message; at most ${RANGES_MAX}`)
  let ids = 0
  let prev: Uint8Array | undefined
  for (let i = 0; i < message.length; i++) {
    const r = message[i]
    const last = i === message.length - 1
    if (r.upper.length > KEY_BYTES)
      throw new ReconcileProtocolError(`range ${i}: a bound is at most ${KEY_BYTES} bytes`)
    if (last !== (r.upper.length === 0))
      throw new ReconcileProtocolError(`range ${i}: only the last range ends at the end (an empty bound)`)
    if (prev !== undefined && !last && compareBytes(prev, r.upper) >= 0)
      throw new ReconcileProtocolError(`range ${i}: bounds must ascend`)
    prev = r.upper
    if (r.mode === RangeMode.fingerprint && r.fingerprint?.length !== FINGERPRINT_BYTES)
      throw new ReconcileProtocolError(`range ${i}: a fingerprint is ${FINGERPRINT_BYTES} bytes`)
    // An honest side lists ids only for ranges where it holds at most IDLIST_MAX items.
    if ((r.ids?.length ?? 0) > IDLIST_MAX || (r.wanted?.length ?? 0) > IDLIST_MAX)
      throw new ReconcileProtocolError(`range ${i}: more than ${IDLIST_MAX} ids in one range`)
    for (const id of [...(r.ids ?? []), ...(r.wanted ?? [])]) {
      if (id.length !== DIGEST_BYTES)
        throw new ReconcileProtocolError(`range ${i}: an id is ${DIGEST_BYTES} bytes`)
    }
    ids += (r.ids?.length ?? 0) + (r.wanted?.length ?? 0)
  }
  if (ids > IDS_MAX) throw new ReconcileProtocolError(`${ids} ids in one message; at most ${IDS_MAX}`)
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
