/**
 * The hash chain of the audit log. Each record commits to its predecessor:
 *
 *   hash = hex(sha256(bytes(prevHash) ‖ UTF-8(canonicalJson({seq, atMs, op, origin, detail}))))
 *
 * where bytes(prevHash) are the 32 bytes the hex stands for, and the first record's prevHash is
 * AUDIT_GENESIS_HASH (64 zeros). Editing, dropping or reordering any record breaks every later link.
 */
import { canonicalJson } from '../core/event-codec.ts'
import type { AuditDraft } from '../core/ports.ts'
import type { AuditRecord } from '../core/records.ts'
import { toHex, utf8 } from '../util/bytes.ts'
import { sha256, sha256Hex } from '../util/crypto.ts'
import { InvalidStoreArgumentError } from './errors.ts'

export const AUDIT_GENESIS_HASH = '0'.repeat(64)

/** The head of the chain: the last record's seq and hash (0 and genesis when empty). */
export interface AuditHead {
  readonly seq: number
  readonly hash: string
}

export const EMPTY_AUDIT_HEAD: AuditHead = { seq: 0, hash: AUDIT_GENESIS_HASH }

export function auditHash(prevHash: string, body: Omit<AuditRecord, 'prevHash' | 'hash'>): string {
  const { seq, atMs, op, origin, detail } = body
  // Keys in ascending order: canonicalJson then writes the body with JSON.stringify when the
  // detail's keys are ordered too (the commit's own drafts), instead of sorting it in JavaScript;
  // the text is the same either way.
  const text = canonicalJson({ atMs, detail, op, origin, seq })
  // One buffer, one one-shot hash (no Hash object, no two intermediate arrays): one hash per
  // commit, on the one-event commit's path.
  const buf = Buffer.allocUnsafe(32 + Buffer.byteLength(text))
  if (prevHash.length !== 64 || buf.write(prevHash, 0, 32, 'hex') !== 32)
    return toHex(sha256(Buffer.from(prevHash, 'hex'), utf8(text)))
  buf.write(text, 32, 'utf8')
  return sha256Hex(buf)
}

/** Chains drafts after `head`. Throws InvalidStoreArgumentError for a draft with no JSON form. */
export function chainAudit(head: AuditHead, drafts: readonly AuditDraft[]): AuditRecord[] {
  const out: AuditRecord[] = []
  let { seq, hash } = head
  for (const d of drafts) {
    if (
      !Number.isFinite(d.atMs) ||
      typeof d.op !== 'string' ||
      typeof d.origin !== 'string' ||
      d.detail === null ||
      typeof d.detail !== 'object'
    ) {
      throw new InvalidStoreArgumentError(
        `audit draft ${JSON.stringify(d.op)} needs a finite atMs, string op and origin, and a detail object`,
      )
    }
    seq += 1
    const body = { seq, atMs: d.atMs, op: d.op, origin: d.origin, detail: d.detail }
    let next: string
    try {
      next = auditHash(hash, body)
    } catch (err) {
      throw new InvalidStoreArgumentError(`audit draft ${JSON.stringify(d.op)} has no canonical JSON form`, {
        cause: err,
      })
    }
    out.push({ ...body, prevHash: hash, hash: next })
    hash = next
  }
  return out
}

/** Index of the first record whose seq, link or hash is wrong, or -1 when the run verifies. */
export function findAuditBreak(prevHash: string, records: readonly AuditRecord[]): number {
  let prev = prevHash
  for (let i = 0; i < records.length; i++) {
    const r = records[i]
    if (i > 0 && r.seq !== records[i - 1].seq + 1) return i
    if (r.prevHash !== prev || auditHash(prev, r) !== r.hash) return i
    prev = r.hash
  }
  return -1
}
