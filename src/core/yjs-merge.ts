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
