/**
 * In-process Yjs merge for trusted bytes (replay of updates this node already accepted through
 * the bounded guard, and tests). Untrusted updates go through src/node/yjs-guard.ts instead.
 */
import * as Y from 'yjs'
import type { CrdtMerger } from './merge.ts'
import type { TargetState } from './target-state.ts'
import type { Digest } from './types.ts'

export const trustedYjsMerger: CrdtMerger = {
  async merge(base, update) {
    const doc = new Y.Doc()
    try {
      if (base !== undefined) Y.applyUpdate(doc, base)
      Y.applyUpdate(doc, update)
      return Y.encodeStateAsUpdate(doc)
    } finally {
      doc.destroy()
    }
  },
}

/**
 * Folds a Yjs document's snapshot and the updates appended since into one new snapshot. They
 * come in no particular order (the log is keyed by event digest): `Y.mergeUpdates` merges them
 * whatever the order, where applying them one by one to a Y.Doc parks every update whose
 * dependencies come later and retries the parked ones on each apply (16 s instead of ~0.1 s for
 * a 1 MB document and 512 updates, measured). The merged update is then applied once to a Y.Doc
 * and its state encoded, so deleted content is garbage-collected. Trusted bytes: every update
 * passed the bounded guard when it was admitted (src/node/yjs-guard.ts).
 */
export function compactYjs(parts: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc()
  try {
    Y.applyUpdate(doc, parts.length === 1 ? parts[0] : Y.mergeUpdates([...parts]))
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}

/** Whether a document's appended log is due to be folded into a snapshot: YJS_COMPACT_UPDATES
 *  updates or YJS_COMPACT_BYTES bytes since the last one (thresholds given by the caller). */
export function yjsCompactionDue(s: TargetState, updatesMax: number, bytesMax: number): boolean {
  return (s.yjsPending ?? 0) >= updatesMax || (s.yjsPendingBytes ?? 0) >= bytesMax
}

/** Folds what the store holds of a document (its snapshot and log, base64) and the state's
 *  unstored log into a new snapshot on `s`: the stored log entries are named to be deleted, and
 *  nothing is left to append. The live path passes what it read of the store; the rebuild's
 *  fold, whose targets hold nothing stored, an empty log. */
export function compactInto(
  s: TargetState,
  stored: { snapshot?: string; log: Record<string, string> },
): void {
  const b64 = (x: string) => new Uint8Array(Buffer.from(x, 'base64'))
  const parts: Uint8Array[] = []
  if (stored.snapshot !== undefined) parts.push(b64(stored.snapshot))
  for (const u of Object.values(stored.log)) parts.push(b64(u))
  for (const u of Object.values(s.yjsLog ?? {})) parts.push(b64(u))
  s.yjs = Buffer.from(compactYjs(parts)).toString('base64')
  s.yjsDropped = Object.keys(stored.log) as Digest[]
  s.yjsLog = {}
  s.yjsPending = 0
  s.yjsPendingBytes = 0
}
