/**
 * The shape of a Yjs v1 update, measured without Yjs: a bounded walk over the bytes (every step
 * consumes at least one byte, so the walk is O(bytes) whatever the update claims) that counts
 * what applying it would create, and refuses what is past the bounds below. A verdict on the
 * bytes alone: every node reaches the same one, idle or loaded, which a wall-clock timeout
 * cannot promise. The Yjs guard (yjs-guard.ts) runs it before an update reaches a worker; the
 * worker's timeout then only guards against a bug (a transient refusal, retried), never decides.
 *
 * Format (yjs 13.6 `UpdateEncoderV1`, lib0 varuints):
 *   update   = structs deleteSet
 *   structs  = n:varuint { count:varuint client:varuint clock:varuint struct^count }^n
 *   struct   = info:u8 ( GC len | Skip len | item )        ; info & 31: 0 GC, 10 Skip, 1..9 content
 *   item     = [origin:id if info&128] [rightOrigin:id if info&64]
 *              [parentInfo:varuint (1: key:string | 0: id) [parentSub:string if info&32]
 *                if neither origin]  content
 *   deleteSet= n:varuint { client:varuint count:varuint (clock:varuint len:varuint)^count }^n
 *   content 1 Deleted len | 2 JSON n string^n | 3 Binary buf | 4 String string | 5 Embed json
 *           6 Format key json | 7 Type ref [key if ref 3 or 5] | 8 Any n any^n | 9 Doc guid any
 *
 * Each bound is one a crafted update of a few dozen bytes exceeds (yjs/yjs#687: run lengths
 * claiming 10^12 structs, a GC of 553,253 clocks) and that a valid update within the 64 KiB
 * payload limit stays far below (the largest measured, 4,000 map entries, has 4,000 structs).
 */

/** Structs one update may declare (sum over clients; each takes at least 2 bytes, so a 64 KiB
 *  update holds at most ~32k honest ones; 20,000 leaves 5x the largest measured). */
export const YJS_STRUCTS_MAX = 20_000

/** Clock ticks the structs of one update may span (GC, Skip and deleted runs count their length,
 *  strings their UTF-16 length, JSON and Any contents their element count, the rest 1): what the
 *  update makes Yjs account for. 2^20: ~16x what 64 KiB of text can insert. */
export const YJS_CLOCK_SPAN_MAX = 1_048_576

/** Clients in the struct section and in the delete set, each. */
export const YJS_CLIENTS_MAX = 1_024

/** Delete-set ranges (sum over clients). */
export const YJS_DELETE_RANGES_MAX = 20_000

/** Nesting of Any values and of JSON texts inside contents: deeper values are refused rather
 *  than left to a recursion whose limit is the thread's stack (not the same on every node). */
export const YJS_NESTING_MAX = 32

export interface YjsUpdateShape {
  readonly clients: number
  readonly structs: number
  readonly clockSpan: number
  readonly deleteRanges: number
  readonly depth: number
}

/** The update is malformed or past a bound: the message says which (stable, per bytes). */
export class YjsUpdateShapeError extends Error {
  override readonly name = 'YjsUpdateShapeError'
}

class Reader {
  pos = 0
  readonly arr: Uint8Array

  constructor(arr: Uint8Array) {
    this.arr = arr
  }

  u8(): number {
    if (this.pos >= this.arr.length) throw new YjsUpdateShapeError('unexpected end of update')
    return this.arr[this.pos++]
  }

  varUint(): number {
    let num = 0
    let mult = 1
    for (;;) {
      const r = this.u8()
      num += (r & 0x7f) * mult
      mult *= 128
      if (r < 0x80) return num
      if (num > Number.MAX_SAFE_INTEGER) throw new YjsUpdateShapeError('integer out of range')
    }
  }

  /** lib0 signed varint: skipped (its value does not matter here). */
  skipVarInt(): void {
    for (let i = 0; ; i++) {
      if (i > 10) throw new YjsUpdateShapeError('integer out of range')
      if (this.u8() < 0x80) return
    }
  }

  skipId(): void {
    this.varUint()
    this.varUint()
  }

  skip(n: number): void {
    if (n > this.arr.length - this.pos) throw new YjsUpdateShapeError('unexpected end of update')
    this.pos += n
  }

  bytes(): Uint8Array {
    const n = this.varUint()
    if (n > this.arr.length - this.pos) throw new YjsUpdateShapeError('unexpected end of update')
    const out = this.arr.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** A varstring's UTF-16 length (what ContentString counts). */
  string(): string {
    return new TextDecoder('utf-8').decode(this.bytes())
  }
}

function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth)
    else if (c === 0x5d || c === 0x7d) depth--
  }
  return max
}

/**
 * Measures a v1 update; throws YjsUpdateShapeError when it is malformed (as far as the walk can
 * tell: Yjs may still refuse it) or past a bound. Trailing bytes are refused (as the worker
 * does).
 */
export function measureYjsUpdate(update: Uint8Array): YjsUpdateShape {
  const r = new Reader(update)
  let structs = 0
  let span = 0
  let depth = 0
  const addSpan = (n: number) => {
    span += n
    if (span > YJS_CLOCK_SPAN_MAX)
      throw new YjsUpdateShapeError(`structs span more than ${YJS_CLOCK_SPAN_MAX} clock ticks`)
  }
  const nested = (d: number) => {
    if (d > YJS_NESTING_MAX) throw new YjsUpdateShapeError(`values nested deeper than ${YJS_NESTING_MAX}`)
    depth = Math.max(depth, d)
  }
  const json = (text: string) => nested(jsonDepth(text))
  const any = (d: number): void => {
    nested(d)
    const tag = r.u8()
    switch (127 - tag) {
      case 0: // undefined
      case 1: // null
      case 6: // false
      case 7: // true
        return
      case 2:
        r.skipVarInt()
        return
      case 3:
        r.skip(4)
        return
      case 4:
      case 5:
        r.skip(8)
        return
      case 8:
        r.bytes()
        return
      case 9: {
        const n = r.varUint()
        for (let i = 0; i < n; i++) {
          r.bytes()
          any(d + 1)
        }
        return
      }
      case 10: {
        const n = r.varUint()
        for (let i = 0; i < n; i++) any(d + 1)
        return
      }
      case 11:
        r.bytes()
        return
      default:
        throw new YjsUpdateShapeError(`unknown value tag ${tag}`)
    }
  }
  const content = (ref: number): number => {
    switch (ref) {
      case 1:
        return r.varUint()
      case 2: {
        const n = r.varUint()
        for (let i = 0; i < n; i++) json(r.string())
        return n
      }
      case 3:
        r.bytes()
        return 1
      case 4:
        return r.string().length
      case 5:
        json(r.string())
        return 1
      case 6:
        r.bytes()
        json(r.string())
        return 1
      case 7: {
        const type = r.varUint()
        if (type > 6) throw new YjsUpdateShapeError(`unknown type ref ${type}`)
        if (type === 3 || type === 5) r.bytes()
        return 1
      }
      case 8: {
        const n = r.varUint()
        for (let i = 0; i < n; i++) any(1)
        return n
      }
      case 9:
        r.bytes()
        any(1)
        return 1
      default:
        throw new YjsUpdateShapeError(`unknown content ref ${ref}`)
    }
  }

  const clients = r.varUint()
  if (clients > YJS_CLIENTS_MAX) throw new YjsUpdateShapeError(`more than ${YJS_CLIENTS_MAX} clients`)
  for (let c = 0; c < clients; c++) {
    const count = r.varUint()
    structs += count
    if (structs > YJS_STRUCTS_MAX) throw new YjsUpdateShapeError(`more than ${YJS_STRUCTS_MAX} structs`)
    r.varUint() // client
    let clock = r.varUint()
    for (let i = 0; i < count; i++) {
      const info = r.u8()
      const ref = info & 31
      let len: number
      if (ref === 0 || ref === 10) len = r.varUint()
      else {
        // origin, right origin: ids (client, clock)
        if ((info & 128) !== 0) r.skipId()
        if ((info & 64) !== 0) r.skipId()
        if ((info & (128 | 64)) === 0) {
          // parent: a root type's name, or an id; then the map key (parentSub)
          if (r.varUint() === 1) r.bytes()
          else r.skipId()
          if ((info & 32) !== 0) r.bytes()
        }
        len = content(ref)
      }
      addSpan(len)
      clock += len
      if (clock > Number.MAX_SAFE_INTEGER) throw new YjsUpdateShapeError('clock out of range')
    }
  }
  const dsClients = r.varUint()
  if (dsClients > YJS_CLIENTS_MAX)
    throw new YjsUpdateShapeError(`more than ${YJS_CLIENTS_MAX} clients in the delete set`)
  let ranges = 0
  for (let c = 0; c < dsClients; c++) {
    r.varUint() // client
    const n = r.varUint()
    ranges += n
    if (ranges > YJS_DELETE_RANGES_MAX)
      throw new YjsUpdateShapeError(`more than ${YJS_DELETE_RANGES_MAX} delete-set ranges`)
    for (let i = 0; i < n; i++) {
      const clock = r.varUint()
      const len = r.varUint()
      if (clock + len > Number.MAX_SAFE_INTEGER)
        throw new YjsUpdateShapeError('delete-set range out of range')
    }
  }
  if (r.pos !== update.length)
    throw new YjsUpdateShapeError(`${update.length - r.pos} bytes after the end of the update`)
  return { clients, structs, clockSpan: span, deleteRanges: ranges, depth }
}
