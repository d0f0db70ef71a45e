/**
 * In-process Yjs merge for trusted bytes (replay of updates this node already accepted through
 * the bounded guard, and tests). Untrusted updates go through src/node/yjs-guard.ts instead.
 */
import * as Y from 'yjs'
import type { CrdtMerger } from './merge.ts'

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
