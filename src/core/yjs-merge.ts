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
 * Folds a Yjs document's snapshot and the updates appended since into one new snapshot (the
 * state of a Y.Doc with all of them applied, so deleted content is garbage-collected). Trusted
 * bytes: every update passed the bounded guard when it was admitted (src/node/yjs-guard.ts).
 */
export function compactYjs(parts: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc()
  try {
    doc.transact(() => {
      for (const p of parts) Y.applyUpdate(doc, p)
    })
    return Y.encodeStateAsUpdate(doc)
  } finally {
    doc.destroy()
  }
}
